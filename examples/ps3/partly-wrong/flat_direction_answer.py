flat_direction = np.zeros(4)  # a PSD Hessian has v^T H v > 0 for every v != 0, so only v = 0 is flat
