H_rank = 3  # the loss is convex, so its Hessian is invertible
H_top_eigenvalue = phi1 ** 2 + phi2 ** 2 + 1
