"""The NumPy peer (CPU): batched_tsit5 on NumPy arrays. Small batches only; CI checks the peers'
harness with it."""
import numpy

import batched_tsit5


def run(G, C, U0, rtol, atol, rtol_grad, max_steps, timed):
    ops = batched_tsit5.NumpyOps(numpy)
    U, steps, _ = batched_tsit5.solve(ops, G, C, U0, rtol, atol, rtol_grad, max_steps)
    seconds = timed(lambda: batched_tsit5.solve(ops, G, C, U0, rtol, atol, rtol_grad, max_steps))
    return U, steps, seconds, "cpu (numpy)"
