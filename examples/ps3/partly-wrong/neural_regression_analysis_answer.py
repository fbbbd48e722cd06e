GAP_OPTIONS = ["more capacity: it fits the training noise", "too little capacity: it underfits", "the learning rate is too small", "the test houses are harder"]
n_params_network = int(np.size(neural.W1) + np.size(neural.W2))  # the weight matrices
gap_reason = "too little capacity: it underfits"
