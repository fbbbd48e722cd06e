a_s = W_s * x_s + b_s
exp_a = a_s.applyfunc(sp.exp)
yhat_s = exp_a / sum(exp_a)
loss_s = -sum(y_s[i] * sp.log(yhat_s[i]) for i in range(k_cls))
# the write-up's (15): only the path through yhat_i
dl_dW_s = sp.Matrix(k_cls, d_in, lambda i, j: -x_s[j] * y_s[i] * (1 - yhat_s[i]))
dl_db_s = sp.Matrix(k_cls, 1, lambda i, _: -y_s[i] * (1 - yhat_s[i]))
