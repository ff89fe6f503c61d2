"""A batched Tsit5 for the gradient flow U' = -(G U - C) of many least-squares problems, as a
PyTorch user would write it: every problem has its own dt, accept/reject and PI control (the same
controller and stopping rule as gradflow: OrdinaryDiffEq's PI form, ||grad f|| <= rtol_grad *
||grad f(U0)||), all problems advance together with masks, and the host looks at the running count
every `check_every` steps. Written once against a small array adapter, so that the same code runs
on NumPy (tested in CI against gradflow) and on PyTorch (on the GPU machine)."""

# Tsitouras (2011) coefficients, as in gradflow's include/gradflow/detail/tableau.hpp.
C_NODES = [0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0]
A_ROWS = [
    [],
    [0.161],
    [-0.008480655492356989, 0.335480655492357],
    [2.8971530571054935, -6.359448489975075, 4.3622954328695815],
    [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
    [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401,
     -0.028269050394068383],
    [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
     2.324710524099774],
]
ERROR_WEIGHTS = [-0.00178001105222577714, -0.0008164344596567469, 0.007880878010261995,
                 -0.1447110071732629, 0.5823571654525552, -0.45808210592918697, 1.0 / 66.0]
ORDER = 5
BETA1, BETA2, SAFETY, Q_MIN, Q_MAX = 7 / (10 * ORDER), 2 / (5 * ORDER), 0.9, 0.2, 10.0


class NumpyOps:
    """The few array operations the solver needs, on NumPy."""

    def __init__(self, np):
        self.np = np

    def sum_blocks(self, x):  # per problem, over its (n, k) block
        return x.sum(axis=(1, 2))

    def where(self, mask, a, b):  # a per-problem mask over (batch, n, k) blocks
        return self.np.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b)

    def count(self, mask):
        return int(mask.sum())

    def full(self, like, value):
        return self.np.full(like.shape[0], value, dtype=like.dtype)


class TorchOps(NumpyOps):
    """The same on PyTorch tensors (any device)."""

    def sum_blocks(self, x):
        return x.sum(dim=(1, 2))

    def where(self, mask, a, b):
        return self.np.where(mask.reshape(mask.shape + (1,) * (a.dim() - 1)), a, b)

    def count(self, mask):
        return int(mask.sum().item())

    def full(self, like, value):
        return self.np.full((like.shape[0],), value, dtype=like.dtype, device=like.device)


def solve(ops, G, C, U0, rtol=1e-8, atol=1e-10, rtol_grad=1e-6, max_steps=100000, check_every=8):
    """Returns (U, accepted steps per problem, converged mask)."""
    xp = ops.np

    def flow(U):
        return -(G @ U - C)

    def norm(x):
        return xp.sqrt(ops.sum_blocks(x * x))

    U = U0 * 1
    K0 = flow(U)
    threshold = rtol_grad * norm(K0)
    running = norm(K0) > threshold
    # First step: the Hairer-Norsett-Wanner rule of thumb 0.01 * max(||U0||, 1e-5) / ||f(U0)||.
    dt = 0.01 * xp.maximum(norm(U), ops.full(K0, 1e-5)) / xp.maximum(norm(K0), ops.full(K0, 1e-30))
    error_previous = ops.full(K0, 1e-4)
    accepted = ops.full(K0, 0.0)
    block = U.shape[1] * U.shape[2]
    for step in range(max_steps):
        if step % check_every == 0 and ops.count(running) == 0:
            break
        h = dt.reshape(-1, 1, 1)
        stages = [K0]
        for s in range(1, 7):
            Y = U + h * sum(a * stages[j] for j, a in enumerate(A_ROWS[s]))
            stages.append(flow(Y))
        U_new = Y  # the last row of A is b (first same as last)
        error = h * sum(w * k for w, k in zip(ERROR_WEIGHTS, stages))
        scaled = error / (atol + xp.maximum(abs(U), abs(U_new)) * rtol)
        estimate = xp.sqrt(ops.sum_blocks(scaled * scaled) / block)
        accept = running & (estimate <= 1)
        safe = xp.maximum(estimate, ops.full(K0, 1e-30))
        q = xp.clip(safe ** BETA1 / error_previous ** BETA2 / SAFETY, 1 / Q_MAX, 1 / Q_MIN)
        shrink = xp.clip(safe ** BETA1 / SAFETY, 0, 1 / Q_MIN)
        next_dt = xp.where(estimate <= 1, dt / q, dt / shrink)
        error_previous = xp.where(accept, xp.maximum(estimate, ops.full(K0, 1e-4)), error_previous)
        U = ops.where(accept, U_new, U)
        K0 = ops.where(accept, stages[6], K0)
        accepted = accepted + accept
        running = running & ~(accept & (norm(stages[6]) <= threshold))
        dt = xp.where(running, next_dt, dt)
    return U, accepted, ~running
