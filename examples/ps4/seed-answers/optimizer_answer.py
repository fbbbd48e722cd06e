def sgd_step(params, grads, lr):
    """New params: theta - lr * g for every key."""
    return {name: params[name] - lr * grads[name] for name in params}


def momentum_step(params, grads, velocity, lr, beta):
    """(new_params, new_velocity): v <- beta v - lr g, theta <- theta + v."""
    # the write-up's (26): theta - lr g + (previous update), i.e. the old velocity is never damped
    new_velocity = {name: velocity[name] - lr * grads[name] for name in params}
    return {name: params[name] + new_velocity[name] for name in params}, new_velocity
