"""The JAX peer: diffrax's Tsit5 with its PID controller (used as PI) under jax.vmap, one problem
per vmapped solve, stopping each problem by an event when ||grad f|| <= rtol_grad * ||grad f(U0)||
(or at t1 = 1e9, never reached on these problems)."""
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
import diffrax  # noqa: E402  (after x64 is switched on)


def make_solver(rtol, atol, rtol_grad, max_steps):
    def solve_one(G, C, U0):
        def flow(t, U, args):
            return -(G @ U - C)

        threshold = rtol_grad * jnp.linalg.norm(G @ U0 - C)

        def small_gradient(t, U, args, **kwargs):
            return jnp.linalg.norm(G @ U - C) <= threshold

        stopping = {}
        if hasattr(diffrax, "Event"):
            stopping["event"] = diffrax.Event(small_gradient)
        else:  # diffrax < 0.6
            stopping["discrete_terminating_event"] = diffrax.DiscreteTerminatingEvent(small_gradient)
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(flow), diffrax.Tsit5(), t0=0.0, t1=1e9, dt0=None, y0=U0,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            saveat=diffrax.SaveAt(t1=True), max_steps=max_steps, throw=False, **stopping)
        return solution.ys[-1], solution.stats["num_accepted_steps"]

    return jax.jit(jax.vmap(solve_one))


def run(G, C, U0, rtol, atol, rtol_grad, max_steps, timed):
    """Returns (U, accepted steps, seconds per solve) with G, C, U0 NumPy arrays."""
    solver = make_solver(rtol, atol, rtol_grad, max_steps)
    G, C, U0 = (jax.device_put(jnp.asarray(x)) for x in (G, C, U0))
    U, steps = solver(G, C, U0)  # compiles
    U.block_until_ready()
    seconds = timed(lambda: solver(G, C, U0)[0].block_until_ready())
    return jax.device_get(U), jax.device_get(steps), seconds, str(jax.devices()[0])
