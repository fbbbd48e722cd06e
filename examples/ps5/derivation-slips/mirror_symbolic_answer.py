md_objective = g_m * (x_m - x0_m) + (x_m * sp.log(x_m / x0_m) + (1 - x_m) * sp.log((1 - x_m) / (1 - x0_m))) / eps_m
# solved by hand from logit(x) = logit(x0) - eps g, with the sign of eps g lost on the way
x_star = x0_m * sp.exp(eps_m * g_m) / (x0_m * sp.exp(eps_m * g_m) + 1 - x0_m)
