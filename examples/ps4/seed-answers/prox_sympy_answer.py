# z = v - t sign(v): the cases z > 0 and z < 0 only, the case z = 0 forgotten
prox_sym = v_sym - t_sym * sp.sign(v_sym)
