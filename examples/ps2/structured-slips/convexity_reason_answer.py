convexity_reason = "sigmoid is convex"
