#!/usr/bin/env python3
"""Solves one batch of seed least-squares gradient flows (A 50x5 uniform, U* uniform, B = A U*, U0
uniform) with gradflow (the CLI, fused Tsit5) and with each peer asked for, at the same tolerances
and stopping rule (rtol, atol, ||grad f|| <= rtol_grad * ||grad f(U0)||), checks that every answer
agrees with a direct solve of the normal equations (gradflow's where it reports the member
converged; those it reports stopped otherwise are counted, with their largest error), and writes
one JSON record. A converged gradflow member agrees within the flat bound or within what its
stopping test guarantees, ||U - U*|| <= ||grad f(U)|| / mu_min <= rtol_grad ||grad f(U0)|| / mu_min
(mu_min: G's smallest eigenvalue), whichever is larger: the test stops the worst-conditioned members
of a large f32 batch a little beyond the flat bound, as it should.

  run_peers.py --gradflow build/gradflow --batch 1000000 --peers torchode,torch,jax --out peers.json

--precision f32 solves the float32 batch (gradflow --precision f32, the peers on float32 arrays).
The tolerances and the agreement bound default per precision (TOLERANCES): f32 at f64's would
have every solver crawl at steps its rounding cannot resolve.

A peer whose Python package is missing is recorded as skipped with the reason. Times: gradflow's
compute region from its sidecar (CUDA events on the GPU; G and C formed beforehand, as for the
peers), each peer the median of three solves after a warm-up (JIT compilation excluded).

--peer-timeout S runs each peer in a process of its own and stops it after S seconds: its entry then
says so, and, when a timed solve was under way, that one solve took longer than the time it had run
(a lower bound on the peer's time and on gradflow's lead). Some peers step the whole batch until its
last member stops, which at large batches takes longer than a run can wait."""
import argparse
import functools
import importlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

PEERS = {"numpy": "numpy_tsit5", "torch": "torch_tsit5", "torchode": "torchode_tsit5",
         "jax": "jax_diffrax"}

# The suite's timed tolerances (README, Benchmarks): f64 to a 1e6 reduction of ||grad f||, f32 to 1e3.
TOLERANCES = {"f64": dict(rtol=1e-8, atol=1e-10, rtol_grad=1e-6, agreement=1e-3),
              "f32": dict(rtol=1e-4, atol=1e-6, rtol_grad=1e-3, agreement=0.05)}


def seed_batch(count, seed):
    rng = numpy.random.default_rng(seed)
    A = rng.random((count, 50, 5))
    B = A @ rng.random((count, 5, 2))
    U0 = rng.random((count, 5, 2))
    return A, B, U0


def timed(solve, repeats=3, starting=lambda: None):
    """The median of `repeats` solves' seconds; `starting()` is called before each."""
    seconds = []
    for _ in range(repeats):
        starting()
        start = time.perf_counter()
        solve()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def peer_process(name, arrays, settings, connection):
    """A peer's solve in its own process: says when each timed solve starts, then sends the result."""
    module = importlib.import_module(PEERS[name])
    reporting_timed = functools.partial(timed, starting=lambda: connection.send(("solving", None)))
    connection.send(("done", module.run(*arrays, *settings, reporting_timed)))


def run_peer_within(name, arrays, settings, limit):
    """(the peer's result, None), or (None, seconds the unfinished timed solve ran, or None when
    the peer was still warming up) when it had no result after `limit` seconds."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state forked from ours
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=peer_process, args=(name, arrays, settings, sending))
    child.start()
    sending.close()
    deadline = time.monotonic() + limit
    solving_since = None
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not receiving.poll(remaining):
                break
            try:
                kind, value = receiving.recv()
            except EOFError:
                child.join()
                raise RuntimeError(
                    f"peer {name} ended without a result (exit code {child.exitcode})") from None
            if kind == "done":
                return value, None
            solving_since = time.monotonic()  # after the child's send: never more than it ran
        ran = None if solving_since is None else time.monotonic() - solving_since
        return None, ran
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def norms(X):
    return numpy.sqrt((X ** 2).sum(axis=(1, 2)))


def relative_errors(U, reference):
    return norms(U - reference) / norms(reference)


def guaranteed_errors(G, C, U0, reference, rtol_grad):
    """Each member's relative error that the gradient test guarantees once it is met (f64)."""
    smallest_eigenvalue = numpy.linalg.eigvalsh(G)[:, 0]
    return rtol_grad * norms(G @ U0 - C) / (smallest_eigenvalue * norms(reference))


def run_gradflow(binary, folder, args):
    out = os.path.join(folder, "u.npy")
    command = [binary, "solve", "--A", os.path.join(folder, "A.npy"), "--B",
               os.path.join(folder, "B.npy"), "--U0", os.path.join(folder, "U0.npy"),
               "--method", "tsit5", "--rtol", str(args.rtol), "--atol", str(args.atol),
               "--rtol-grad", str(args.rtol_grad), "--max-steps", str(args.max_steps),
               "--path", "fused", "--backend", args.backend, "--precision", args.precision,
               "--out", out, "--report", os.path.join(folder, "report.csv"), "--quiet"]
    seconds = []
    for _ in range(3):  # each run is a fresh process: the median damps the first run's start-up
        subprocess.run(command, check=True)
        with open(os.path.join(folder, "u.json")) as sidecar:
            record = json.load(sidecar)
        seconds.append(record["compute_seconds"])
    report = dict(seconds=statistics.median(seconds), device=record["device"],
                  backend=record["backend"], status_counts=record["status_counts"])
    statuses = numpy.loadtxt(os.path.join(folder, "report.csv"), delimiter=",", skiprows=1,
                             usecols=1, dtype=str, ndmin=1)
    return numpy.load(out), statuses == "converged", report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gradflow", required=True, help="the gradflow executable")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--peers", default="torchode,torch,jax",
                        help="comma-separated: numpy,torch,torchode,jax")
    parser.add_argument("--precision", default="f64", choices=["f64", "f32"])
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--rtol", type=float, help="default: TOLERANCES for the precision")
    parser.add_argument("--atol", type=float, help="default: TOLERANCES for the precision")
    parser.add_argument("--rtol-grad", type=float, help="default: TOLERANCES for the precision")
    parser.add_argument("--max-steps", type=int, default=100000)
    parser.add_argument("--agreement", type=float,
                        help="largest relative error against the direct solve that counts as "
                        "agreeing (default: TOLERANCES for the precision)")
    parser.add_argument("--peer-timeout", type=float,
                        help="seconds each peer may take (warm-up and timed solves), each in a "
                        "process of its own; default: no limit, in this process")
    parser.add_argument("--out", default="peers.json")
    args = parser.parse_args()
    if args.peer_timeout is not None and not args.peer_timeout > 0:
        parser.error(f"--peer-timeout must be a positive number of seconds, not {args.peer_timeout}")
    for name, value in TOLERANCES[args.precision].items():
        if getattr(args, name) is None:
            setattr(args, name, value)

    A, B, U0 = seed_batch(args.batch, 2026)
    At = A.transpose(0, 2, 1)
    exact_G, exact_C = At @ A, At @ B
    reference = numpy.linalg.solve(exact_G, exact_C)
    # The gradient gradflow tests rounds differently from this f64 one (f32 at B = 10⁵: its ratio
    # reached 1.0009e-3 against rtol_grad 1e-3): a 10 % margin.
    guaranteed = 1.1 * guaranteed_errors(exact_G, exact_C, U0, reference, args.rtol_grad)
    if args.precision == "f32":
        A, B, U0 = (x.astype(numpy.float32) for x in (A, B, U0))
        At = A.transpose(0, 2, 1)
    G, C = At @ A, At @ B
    record = dict(batch=args.batch, problem="seed: A 50x5 uniform, B = A U*, U0 uniform",
                  precision=args.precision, threads=os.cpu_count(),
                  tolerances=dict(rtol=args.rtol, atol=args.atol, rtol_grad=args.rtol_grad),
                  peers={})
    with tempfile.TemporaryDirectory() as folder:
        for name, array in (("A", A), ("B", B), ("U0", U0)):
            numpy.save(os.path.join(folder, name + ".npy"), array)
        U, converged, report = run_gradflow(args.gradflow, folder, args)
    # gradflow's answers are judged where it reports convergence; a member it reports stopped
    # otherwise (max_steps, say) is counted and its error recorded, not taken for an answer.
    errors = relative_errors(U, reference)
    bounds = numpy.maximum(args.agreement, guaranteed)
    report.update(problems_per_s=args.batch / report["seconds"],
                  max_error=float(errors[converged].max(initial=0.0)),
                  beyond_flat_bound=int((errors[converged] > args.agreement).sum()),
                  agrees=bool(converged.any() and (errors <= bounds)[converged].all()))
    if not converged.all():
        report.update(not_converged=int((~converged).sum()),
                      max_error_not_converged=float(errors[~converged].max()))
    record["gradflow"] = report

    for name in filter(None, args.peers.split(",")):
        try:
            module = importlib.import_module(PEERS[name])
        except ImportError as missing:
            record["peers"][name] = dict(skipped=f"not installed: {missing}")
            continue
        settings = (args.rtol, args.atol, args.rtol_grad, args.max_steps)
        if args.peer_timeout is None:
            result = module.run(G, C, U0, *settings, timed)
        else:
            result, ran = run_peer_within(name, (G, C, U0), settings, args.peer_timeout)
            if result is None:
                entry = dict(no_result_within_s=args.peer_timeout)
                if ran is None:
                    entry["stopped_in"] = "the warm-up (compilation and a first solve)"
                else:
                    entry.update(one_solve_longer_than_s=ran,
                                 gradflow_speedup_at_least=ran / report["seconds"])
                record["peers"][name] = entry
                continue
        U_peer, steps, seconds, device = result
        errors = relative_errors(U_peer, reference)
        record["peers"][name] = dict(
            seconds=seconds, device=device, problems_per_s=args.batch / seconds,
            steps_p50=float(numpy.median(steps)), max_error=float(errors.max()),
            agrees=bool(errors.max() <= args.agreement),
            gradflow_speedup=seconds / report["seconds"])
    with open(args.out, "w") as out:
        json.dump(record, out, indent=2)
    print(json.dumps(record, indent=2))
    agree = record["gradflow"]["agrees"] and all(
        peer.get("agrees", True) for peer in record["peers"].values())
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
