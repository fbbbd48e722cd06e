slice_conclusion = "both"
