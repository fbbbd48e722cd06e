# the regulariser written as lam theta^2 (its 1/2 dropped) in the objective: theta_next shrinks twice as much
prox_objective = g_s * (theta - theta_t) + lam * theta**2 + (theta - theta_t)**2 / (2 * eps_p)
theta_next = sp.solve(sp.diff(prox_objective, theta), theta)[0]
