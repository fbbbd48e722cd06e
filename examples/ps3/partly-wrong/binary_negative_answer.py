# the label flips the loss, so it flips the curvature too
d2L_neg = -sp.simplify(sp.diff(L_binary.subs(y, 1), z, 2))
