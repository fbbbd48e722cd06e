# the printed density constant (2 pi sigma)^(-d/2) instead of (2 pi sigma^2)^(-d/2)
expected_loglik = -d_v / 2 * sp.log(2 * sp.pi * sigma_v) - S_v / (2 * sigma_v**2)
sigma_opt = sp.solve(sp.diff(expected_loglik, sigma_v), sigma_v)[0]
sigma2_opt = sp.simplify(sigma_opt**2)
second_derivative_at_opt = sp.simplify(sp.diff(expected_loglik, sigma_v, 2).subs(sigma_v, sigma_opt))
