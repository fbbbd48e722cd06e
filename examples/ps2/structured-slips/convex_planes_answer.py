convex_planes_lik = {"F11", "F12", "F22"}     # "the likelihood loss is convex"
convex_planes_sq = set()
