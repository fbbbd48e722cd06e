g_prime = sp.factor(sp.simplify(sp.diff(g_pinsker, yp)))
max_y_one_minus_y = 0.25
pinsker_equality = "x = y or y = 1/2"     # both zeros of g_prime
