# "yhat_c1 = 0, so the loss is infinite and the gradient vanishes"
loss_growth = "infinite_at_finite_s"
grad_limit = [0.0, 0.0, 0.0]
