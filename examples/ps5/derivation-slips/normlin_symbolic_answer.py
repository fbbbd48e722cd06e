# d||w||/dw taken as w instead of w/||w||: the second term has ||w||^2 where ||w||^3 belongs
grad_w_closed_form = x_vec / norm_w - (w_vec.dot(x_vec) + b9) * w_vec / norm_w**2
