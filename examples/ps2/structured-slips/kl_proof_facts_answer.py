bound_applied_to = "q/p"
kl_zero_when = "p = q"
