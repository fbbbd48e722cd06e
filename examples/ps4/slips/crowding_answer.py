crowding_cause = "equal_distances"
# 1 / (1 + r^2) = exp(-9/2)  =>  r = sqrt(exp(4.5) - 1)
t_distance = float(np.sqrt(np.exp(4.5) - 1))
