"""A small reverse-mode automatic differentiation engine on NumPy arrays (read it in one sitting).

A ``Tensor`` wraps a float64 array ``data``; one created with ``requires_grad=True`` (a parameter)
holds, after ``loss.backward()``, ``grad`` (same shape): the derivative of the scalar ``loss`` with
respect to ``data``. Results of operations on parameters require gradients too; plain numbers and
arrays (data, dropout masks) are constants and get none. Every operation returns a
new Tensor that remembers its inputs (``_parents``) and a closure ``_backward`` that adds its
share of the gradient to them (the chain rule, as a vector-Jacobian product). ``backward()``
visits the graph in reverse topological order, like micrograd, but on whole arrays.

Broadcasting: ``a + b`` with a (N, K) and b (K,) broadcasts like NumPy; in the backward pass the
gradient of b is summed over the broadcast axes (``unbroadcast``) so it has b's shape again.

Building blocks (shapes: N examples, D inputs, H hidden units, K classes):

- ``Tensor`` ops: ``+ - * @``, unary ``-``, ``relu``, ``tanh``, ``sigmoid``, ``exp``, ``log``,
  ``sum(axis)``, ``mean(axis)``, ``reshape``; Python numbers and arrays are wrapped on the fly;
- ``cross_entropy(logits (N, K), labels (N,) ints) -> Tensor ()``: mean of -log softmax(logits)[label],
  computed with log-sum-exp (no overflow), gradient ``(softmax - onehot) / N``;
- ``dropout(x, p, training, rng)``: *inverted* dropout, each entry kept with probability 1 - p and
  scaled by 1 / (1 - p) while training (expectation unchanged), identity otherwise;
- ``Module`` (``parameters()``, ``train()``, ``eval()``, ``zero_grad()``) and ``Linear(D, H, rng)``
  computing ``x @ W + b`` with W (D, H), b (H,), both initialised U(-1/sqrt(D), 1/sqrt(D)) like
  PyTorch's ``nn.Linear`` (whose weight is stored transposed, (H, D));
- optimisers ``SGD(params, lr)`` and ``Adam(params, lr, betas, eps)`` with ``step()``, ``zero_grad()``.

Gradients accumulate (``+=``) until ``zero_grad()``, as in PyTorch.
"""

import numpy as np


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes NumPy broadcast to reach it, so it gets ``shape`` back."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """An array that records the operations applied to it; see the module docstring."""

    def __init__(self, data, requires_grad=False, _parents=(), _op=""):
        # parameters get their own copy (optimisers update it in place); constants are not copied
        self.data = np.array(data, dtype=np.float64) if requires_grad else np.asarray(data, np.float64)
        # a result needs a gradient when any input does; constants (data, masks) never do
        self.requires_grad = requires_grad or any(p.requires_grad for p in _parents)
        self.grad = np.zeros_like(self.data) if self.requires_grad else None
        self._parents = _parents
        self._op = _op
        self._backward = lambda: None

    def _add_grad(self, g):
        """Accumulate ``g`` (already of this tensor's shape) into .grad, if it needs one."""
        if self.requires_grad:
            self.grad += g

    shape = property(lambda self: self.data.shape)
    __array_ufunc__ = None  # array @ tensor, array * tensor, ... use the Tensor's reflected operators

    def __repr__(self):
        return f"Tensor(shape={self.shape}, op={self._op or 'leaf'!r}, requires_grad={self.requires_grad})"

    # -- elementary operations: each defines out and how to push out.grad back to its inputs --
    def __add__(self, other):
        other = as_tensor(other)
        out = Tensor(self.data + other.data, _parents=(self, other), _op="+")

        def _backward():
            self._add_grad(unbroadcast(out.grad, self.shape))
            other._add_grad(unbroadcast(out.grad, other.shape))

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = as_tensor(other)
        out = Tensor(self.data * other.data, _parents=(self, other), _op="*")

        def _backward():
            self._add_grad(unbroadcast(out.grad * other.data, self.shape))
            other._add_grad(unbroadcast(out.grad * self.data, other.shape))

        out._backward = _backward
        return out

    def __matmul__(self, other):
        """(N, D) @ (D, H) -> (N, H); also (D,) @ (D, H) -> (H,)."""
        other = as_tensor(other)
        out = Tensor(self.data @ other.data, _parents=(self, other), _op="@")

        def _backward():
            a, b, g = self.data, other.data, out.grad
            if self.requires_grad:
                self.grad += g @ b.T
            if other.requires_grad:
                other.grad += np.outer(a, g) if a.ndim == 1 else a.T @ g

        out._backward = _backward
        return out

    def _unary(self, value, local_grad, op):
        """out = f(self) elementwise, with f'(self) given as ``local_grad`` (same shape)."""
        out = Tensor(value, _parents=(self,), _op=op)

        def _backward():
            self._add_grad(out.grad * local_grad)

        out._backward = _backward
        return out

    def relu(self):
        """max(x, 0); derivative 1 where x > 0, else 0 (0 at the kink)."""
        return self._unary(np.maximum(self.data, 0.0), (self.data > 0).astype(float), "relu")

    def tanh(self):
        t = np.tanh(self.data)
        return self._unary(t, 1.0 - t**2, "tanh")

    def sigmoid(self):
        s = np.exp(-np.logaddexp(0.0, -self.data))  # 1 / (1 + e^-x) without overflow
        return self._unary(s, s * (1.0 - s), "sigmoid")

    def exp(self):
        e = np.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self):
        return self._unary(np.log(self.data), 1.0 / self.data, "log")

    def sum(self, axis=None, keepdims=False):
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), _parents=(self,), _op="sum")

        def _backward():
            g = out.grad
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            self._add_grad(np.broadcast_to(g, self.shape))

        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        count = self.data.size if axis is None else self.data.shape[axis]
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)

    def reshape(self, *shape):
        out = Tensor(self.data.reshape(*shape), _parents=(self,), _op="reshape")

        def _backward():
            self._add_grad(out.grad.reshape(self.shape))

        out._backward = _backward
        return out

    # -- the rest is spelled with the operations above --
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-as_tensor(other))

    def __rsub__(self, other):
        return as_tensor(other) + (-self)

    __radd__ = __add__
    __rmul__ = __mul__

    def __rmatmul__(self, other):
        return as_tensor(other) @ self

    # -- reverse mode --
    def backward(self):
        """Fill ``.grad`` of every tensor this scalar depends on (d self / d tensor)."""
        if self.data.size != 1:
            raise ValueError(f"backward() needs a scalar (e.g. a loss), got shape {self.shape}")
        if not self.requires_grad:
            raise ValueError("backward() on a tensor that depends on no parameter (requires_grad=False)")
        order, seen = [], set()

        def visit(node):  # depth-first topological order (iterative: deep graphs are fine)
            stack = [(node, False)]
            while stack:
                current, expanded = stack.pop()
                if expanded:
                    order.append(current)
                elif id(current) not in seen:
                    seen.add(id(current))
                    stack.append((current, True))
                    stack.extend((p, False) for p in current._parents if p.requires_grad and id(p) not in seen)

        visit(self)
        self.grad = np.ones_like(self.data)
        for node in reversed(order):
            node._backward()


def as_tensor(x):
    """A Tensor as is; a number or array wrapped (a constant: its grad is never used)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def cross_entropy(logits, labels):
    """Mean multinomial logistic loss. logits Tensor (N, K), labels ints (N,) -> Tensor ().

    loss = mean_n [logsumexp(z_n) - z_n[y_n]]; d loss / d z = (softmax(z) - onehot(y)) / N.
    """
    labels = np.asarray(labels, dtype=int).reshape(-1)
    z = logits.data
    m = z.max(axis=1, keepdims=True)
    log_norm = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    n = len(labels)
    out = Tensor(np.mean(log_norm - z[np.arange(n), labels]), _parents=(logits,), _op="cross_entropy")

    def _backward():
        p = np.exp(z - log_norm[:, None])
        p[np.arange(n), labels] -= 1.0
        logits._add_grad(out.grad * p / n)

    out._backward = _backward
    return out


def dropout(x, p, training, rng):
    """Inverted dropout: keep each entry with prob. 1 - p, scaled by 1/(1 - p); identity if not training.

    x: Tensor of any shape; p in [0, 1); rng: a NumPy Generator (the random masks come from it).
    """
    if not training or p == 0:
        return x
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask


class Module:
    """Base class of models: finds its parameters (Tensors, Modules, lists of them) by attribute."""

    training = True

    def parameters(self):
        """All parameter Tensors, in the order the attributes were assigned (depth first)."""
        found = []

        def collect(value):
            if isinstance(value, Tensor) and value.requires_grad:
                found.append(value)
            elif isinstance(value, Module):
                found.extend(value.parameters())
            elif isinstance(value, (list, tuple)):
                for item in value:
                    collect(item)

        for value in vars(self).values():
            collect(value)
        unique = {id(t): t for t in found}
        return list(unique.values())

    def modules(self):
        """This module and every sub-module (depth first)."""
        out = [self]
        for value in vars(self).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            out.extend(m for item in items if isinstance(item, Module) for m in item.modules())
        return out

    def train(self):
        """Training mode (dropout active); returns self."""
        for m in self.modules():
            m.training = True
        return self

    def eval(self):
        """Evaluation mode (dropout off); returns self."""
        for m in self.modules():
            m.training = False
        return self

    def zero_grad(self):
        for t in self.parameters():
            t.grad = np.zeros_like(t.data)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


class Linear(Module):
    """Affine layer x @ W + b: (N, D) -> (N, H). W (D, H), b (H,) ~ U(-1/sqrt(D), 1/sqrt(D))."""

    def __init__(self, n_in, n_out, rng):
        bound = 1.0 / np.sqrt(n_in)
        self.W = Tensor(rng.uniform(-bound, bound, size=(n_in, n_out)), requires_grad=True)
        self.b = Tensor(rng.uniform(-bound, bound, size=n_out), requires_grad=True)

    def forward(self, x):
        return as_tensor(x) @ self.W + self.b


class SGD:
    """Plain stochastic gradient descent: p <- p - lr * grad."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def zero_grad(self):
        for p in self.params:
            p.grad = np.zeros_like(p.data)

    def step(self):
        for p in self.params:
            p.data -= self.lr * p.grad


class Adam(SGD):
    """Adam (Kingma & Ba 2015), as in PyTorch without weight decay.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1;
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        self.betas, self.eps, self.t = betas, eps, 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        b1, b2 = self.betas
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            m *= b1
            m += (1 - b1) * p.grad
            v *= b2
            v += (1 - b2) * p.grad**2
            m_hat, v_hat = m / (1 - b1**self.t), v / (1 - b2**self.t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
