chance_errors = (1 - 1 / 1000, 1 - 5 / 1000)
top5_forgives = "low_confidence"
