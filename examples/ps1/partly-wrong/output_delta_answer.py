# the original write-up's o' = 1: the softmax passes dJ/dyhat through unchanged
output_delta = [yhat_s[l] - target_s[l] for l in range(3)]
