dLsq_da = sp.simplify(sp.diff((x_pix - f_pix) ** 2 / 2, a_pix))
dLlik_da = (f_pix - x_pix) * f_pix * (1 - f_pix)     # df/da kept, but dL_lik/df = (f - x) / (f (1 - f)) taken as f - x
