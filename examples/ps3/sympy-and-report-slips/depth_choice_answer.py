# only the deeper networks compared: the 1-layer run (the defaults) is left out
best_depth = max(depth_runs, key=lambda layers: depth_runs[layers][1]["validation accuracy"][-1])
best_depth_test = evaluate(depth_runs[best_depth][0], X_test, y_test)
