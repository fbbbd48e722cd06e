kl_discrete = sum(pk * sp.log(pk / qk) for pk, qk in zip(P_sym, Q_sym))
cross_entropy_discrete = -sum(pk * sp.log(qk) for pk, qk in zip(P_sym, Q_sym))
kl_minus_ce = sum(pk * pk for pk in P_sym)     # the printed theta-free term, without the log
