reverse_order = ["z", "h", "a", "f", "E"]     # the forward order
parents_of_a = {"h", "W2", "b2"}
