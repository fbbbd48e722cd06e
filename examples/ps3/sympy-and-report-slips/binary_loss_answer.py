L_pos = L_binary.subs(y, 1)
dL_pos = sp.simplify(sp.diff(L_pos, z))
# L' = -e^-z / (1 + e^-z), differentiated by hand with the quotient rule, the denominator not squared
d2L_pos = sp.exp(-z) / (1 + sp.exp(-z))
d2L_pos_in_s = s * (1 - s)


def binary_loss_curvature(z_values):
    p = numerics.sigmoid(np.asarray(z_values, dtype=float))
    return p * (1 - p)
