def square(v):
    """v^2 as a node."""
    return Value(v.data**2, (v,), (2 * v.data,), "square")


def sigmoid(v):
    """sigma(v) as a node."""
    s = 1 / (1 + np.exp(-v.data)) if v.data >= 0 else np.exp(v.data) / (1 + np.exp(v.data))
    return Value(s, (v,), (s * (1 - s),), "sigmoid")


def divide(u, v):
    """u / v as a node."""
    return Value(u.data / v.data, (u, v), (1 / v.data, -u.data / v.data**2), "/")


def backward(out):
    """Fill .grad = d(out)/d(node) for every node of the graph of out."""
    order, seen = [], set()

    def visit(node):                      # post-order DFS: parents before children
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)
    visit(out)
    out.grad = 1.0
    for node in reversed(order):          # every user of a node is finished before the node
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad = local * node.grad      # overwrites instead of accumulating


def f_graph(x, y):
    """f(x, y) = (x^2 + sigma(y)) / (3x + y - sigma(x)) built from Value nodes x, y."""
    return divide(square(x) + sigmoid(y), 3 * x + y - sigmoid(x))
