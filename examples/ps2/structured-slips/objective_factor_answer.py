objective_factor = 2 * s2x_o / N_o      # the sign of max -> min forgotten
