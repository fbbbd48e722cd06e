larger_sigma2_x = "spread out"
vae_first_half_drop = False
