def kernel(i, j):
    return 1 / (1 + (y_syms[i] - y_syms[j]) ** 2)

Z_sym = sum(kernel(i, j) for i in range(3) for j in range(3) if i != j)
C_sym = sum(P3[i, j] * sp.log(P3[i, j] * Z_sym / kernel(i, j)) for i in range(3) for j in range(3) if i != j)
grad_C_sym = [sp.diff(C_sym, yi) for yi in y_syms]
# each unordered pair counted once (sum over j > i conventions): the factor 4 becomes 2
grad_closed_sym = [2 * sum((P3[i, j] - kernel(i, j) / Z_sym) * (y_syms[i] - y_syms[j]) * kernel(i, j)
                           for j in range(3) if j != i) for i in range(3)]
