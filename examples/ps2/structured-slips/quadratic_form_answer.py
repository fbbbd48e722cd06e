expected_quadratic_form = "trace(Sigma)"
