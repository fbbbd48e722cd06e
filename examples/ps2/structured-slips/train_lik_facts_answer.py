lower_relative_curve = "lik"        # expected from the f(1-f) argument, not read from the plot
lik_floor_grey = float(np.log(2))
message_ratio = 1 / (0.99 * 0.01)
saturated_learning = "no f(1-f) factor"
