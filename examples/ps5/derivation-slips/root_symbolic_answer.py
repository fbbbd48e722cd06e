# rho'(l) taken as lam l for rho = lam l^2 (the factor 2 lost), the other root right
l_quadratic = norm_a / (1 + eps6_s * lam6_s)
l_norm = sp.solve(l + eps6_s * lam6_s - norm_a, l)[0]
