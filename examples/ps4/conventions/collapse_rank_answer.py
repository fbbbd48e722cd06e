# the collapsed W is 4x6, so its rank can reach min(4, 6)
collapsed_rank_max = 4
collapse_restricts = False
