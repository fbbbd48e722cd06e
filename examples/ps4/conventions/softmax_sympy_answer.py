a_s = W_s * x_s + b_s
exp_a = a_s.applyfunc(sp.exp)
yhat_s = exp_a / sum(exp_a)
loss_s = -sum(y_s[i] * sp.log(yhat_s[i]) for i in range(k_cls))
# the gradient of the log-likelihood log yhat_c (the ascent direction), not of the loss l = -log yhat_c
dl_dW_s = (y_s - yhat_s) * x_s.T
dl_db_s = y_s - yhat_s
