# "V[XY] = V[X] V[Y] for independent X, Y", as printed
mean_y = sp.Integer(0)
var_y = n * sigma_w**2 * sigma**2
