naive_sigmoid_at_1000 = "1.0"             # the limit of e^x / (1 + e^x)
naive_log_sigmoid_at_minus_800 = "-inf"
