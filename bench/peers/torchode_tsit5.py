"""The torchode peer (PyTorch; CUDA when present): torchode's Tsit5 with its PID controller set to
the PI controller gradflow uses (Söderlind's pcoeff 0.4, icoeff 0.3 divided by the order: OrdinaryDiffEq's
beta1 = 7/(10p), beta2 = 2/(5p)), a dt and accept/reject per problem, compiled with torch.compile where
that works. torchode has no events: each problem integrates to t_i = ln(1/rtol_grad) / mu_min,i, where
gradient flow's bound ||grad f(t)|| <= exp(-mu_min t) ||grad f(U0)|| guarantees the same gradient test
(the harness checks every answer against a direct solve)."""
import numpy
import torch
import torchode


def run(G, C, U0, rtol, atol, rtol_grad, max_steps, timed):
    """Returns (U, accepted steps, seconds per solve) with G, C, U0 NumPy arrays."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    batch, n, k = U0.shape
    t_end = numpy.log(1.0 / rtol_grad) / numpy.linalg.eigvalsh(G.astype(numpy.float64))[:, 0]
    G_t, C_t, U0_t = (torch.from_numpy(numpy.ascontiguousarray(x)).to(device) for x in (G, C, U0))

    def flow(t, y):
        return -(torch.bmm(G_t, y.view(batch, n, k)) - C_t).view(batch, n * k)

    term = torchode.ODETerm(flow)
    controller = torchode.PIDController(atol=atol, rtol=rtol, pcoeff=0.4, icoeff=0.3, dcoeff=0.0,
                                        term=term)
    solver = torchode.AutoDiffAdjoint(torchode.Tsit5(term=term), controller, max_steps=max_steps)
    compiled = "eager"
    try:
        solver = torch.compile(solver)
        compiled = "torch.compile"
    except Exception:  # noqa: BLE001  (an old PyTorch or no compiler: torchode runs eagerly)
        pass
    problem = torchode.InitialValueProblem(
        y0=U0_t.reshape(batch, n * k), t_start=torch.zeros(batch, dtype=U0_t.dtype, device=device),
        t_end=torch.from_numpy(t_end.astype(U0.dtype)).to(device))

    def solve():
        with torch.no_grad():
            solution = solver.solve(problem)
        if device == "cuda":
            torch.cuda.synchronize()
        return solution

    solution = solve()  # warm-up: compilation, allocator
    seconds = timed(solve)
    U = solution.ys[:, -1].reshape(batch, n, k).cpu().numpy()
    steps = solution.stats["n_accepted"].cpu().numpy()
    name = (torch.cuda.get_device_name() if device == "cuda" else "cpu") + f" ({compiled})"
    return U, steps, seconds, name
