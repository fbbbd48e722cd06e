edge_f2_f1 = -np.eye(2)
n_messages_phi = 4
first_weight_message = "tW2"
transpose_message = "t2"
batch_combination = "mean"      # as if E were the mean over examples
tied_combination = "sum"
