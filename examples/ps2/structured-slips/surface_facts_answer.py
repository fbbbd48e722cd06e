plateau_loss = "square"
lik_far_growth = "quadratic"     # a bowl, so a parabola
