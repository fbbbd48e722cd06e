sq_message_saturated = 0.01 - 1.0      # dL/df only: the f (1 - f) of the sigmoid is missing
blur_reason = "30 hidden units"
