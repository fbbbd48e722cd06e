reparam_jacobian = "det Sigma"
