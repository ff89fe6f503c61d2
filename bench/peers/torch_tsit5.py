"""The PyTorch peer: batched_tsit5 on torch tensors (CUDA when present), float64."""
import torch

import batched_tsit5


def run(G, C, U0, rtol, atol, rtol_grad, max_steps, timed):
    """Returns (U, accepted steps, seconds per solve) with G, C, U0 NumPy arrays."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    G, C, U0 = (torch.from_numpy(x).to(device) for x in (G, C, U0))
    ops = batched_tsit5.TorchOps(torch)

    def solve():
        result = batched_tsit5.solve(ops, G, C, U0, rtol, atol, rtol_grad, max_steps)
        if device == "cuda":
            torch.cuda.synchronize()
        return result

    U, steps, _ = solve()  # warm-up: CUDA context, cuBLAS handles, caching allocator
    seconds = timed(solve)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    return U.cpu().numpy(), steps.cpu().numpy(), seconds, name
