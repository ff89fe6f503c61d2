#!/usr/bin/env python3
"""How evenly a sweep whose members cost 100x apart is shared among ranks (README, "Clusters").

The sweep: gradient descent on the seed problem at 64 learning rates from 3e-4 to 3e-2 (steps to
converge ~1/lr: 100x apart) x U0 seeds, learning rate the slow axis, so that contiguous slices of
the members differ in cost the way a sweep sorted by one hyperparameter does. It runs three ways,
every process single-threaded (OMP_NUM_THREADS=1):

  one      one process: the total work W (its CPU seconds) and the table to compare against;
  dynamic  mpirun -n R: rank 0 hands out chunks as ranks ask (gradflow's MPI mode);
  static   R processes at once, --shard i/R each (the Slurm-array recipe).

Time against the ideal: the run's total work W (the CPU seconds of all its ranks, from the
sidecars' `ranks`) spread perfectly over the machine, W / min(R, cores), against the run's wall
time. With R ranks on fewer cores (4 on CI's 2) the machine, not the ranks, is what the work
shares; a static shard that holds most of the work then finishes alone on one core while the
others idle. Also reported: the busiest rank's CPU seconds over the mean of the run's ranks (for
static shards the time R dedicated cores would take over the ideal; for the dynamic hand-out a
pessimistic figure, since a rank the scheduler gave less CPU was rightly handed fewer chunks).
Both learning-rate orders run: costly members first (ascending lr) and last (descending), the
latter the hard case for a greedy hand-out. Every run's table must equal the one-process table
byte for byte (the shards' after `gradflow merge`). Medians of --repeat runs.

usage: mpi_balance.py GRADFLOW [--ranks 4] [--seeds 512] [--repeat 1] [--out results.json]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def sweep_arguments(order, seeds):
    lrs = [3e-4 * 100 ** (i / 63) for i in range(64)]
    if order == "descending":
        lrs.reverse()
    return ["sweep", "--random", "1,50,5,2", "--method", "gd", "--backend", "cpu",
            "--lr", ",".join(repr(v) for v in lrs), "--u0-seed", f"0:{seeds - 1}:{seeds}",
            "--max-steps", "1000000", "--quiet"]


def environment():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return env


def ranks_of(sidecar_path):
    with open(sidecar_path) as f:
        return json.load(f)["ranks"]


def timed(command, env):
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"mpi_balance: {' '.join(command[:6])} ... failed ({done.returncode}):\n"
                 f"{done.stdout}{done.stderr}")
    return time.perf_counter() - started


def measure(gradflow, mpirun, ranks, order, seeds, scratch):
    env = environment()
    base = sweep_arguments(order, seeds)
    path = lambda name: os.path.join(scratch, f"{order}_{name}")
    one_wall = timed([gradflow, *base, "--out", path("one.csv")], env)
    work = ranks_of(path("one.json"))[0]["cpu_seconds"]

    dynamic_wall = timed([mpirun, "--oversubscribe", "-n", str(ranks), gradflow, *base,
                          "--out", path("dynamic.csv")], env)
    dynamic = [r["cpu_seconds"] for r in ranks_of(path("dynamic.json"))]

    started = time.perf_counter()
    shards = [subprocess.Popen([gradflow, *base, "--shard", f"{i}/{ranks}", "--out",
                                path(f"shard{i}.csv")], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT) for i in range(ranks)]
    for shard in shards:
        if shard.wait() != 0:
            sys.exit(f"mpi_balance: a static shard failed:\n{shard.stdout.read().decode()}")
    static_wall = time.perf_counter() - started
    static = [ranks_of(path(f"shard{i}.json"))[0]["cpu_seconds"] for i in range(ranks)]
    timed([gradflow, "merge", "-o", path("merged.csv"),
           *[path(f"shard{i}.csv") for i in range(ranks)]], env)

    with open(path("one.csv"), "rb") as f:
        expected = f.read()
    for name in ("dynamic.csv", "merged.csv"):
        with open(path(name), "rb") as f:
            if f.read() != expected:
                sys.exit(f"mpi_balance: {order} {name} differs from the one-process table")

    cores = os.cpu_count() or 1
    capacity = min(ranks, cores)

    def figures(rank_cpu, wall):
        total = sum(rank_cpu)
        return {"rank_cpu_seconds": rank_cpu, "wall_seconds": wall,
                "ideal_wall_seconds": total / capacity,
                "wall_over_ideal": wall / (total / capacity),
                "busiest_over_mean": max(rank_cpu) / (total / ranks)}

    return {"order": order, "members": 64 * seeds, "one_process_cpu_seconds": work,
            "one_process_wall_seconds": one_wall, "dynamic": figures(dynamic, dynamic_wall),
            "static": figures(static, static_wall), "tables_identical": True}


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gradflow")
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out")
    arguments = parser.parse_args()
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        print("mpi_balance: skipped: no mpirun (install openmpi-bin)")
        return
    info = subprocess.run([arguments.gradflow, "info"], capture_output=True, text=True).stdout
    if "mpi: on" not in info:
        print("mpi_balance: skipped: this gradflow is built without MPI")
        return
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        for order in ("ascending", "descending"):
            repeats = [measure(arguments.gradflow, mpirun, arguments.ranks, order, arguments.seeds,
                               scratch) for _ in range(arguments.repeat)]
            summary = {"order": order, "members": repeats[0]["members"], "repeats": repeats}
            for way in ("dynamic", "static"):
                summary[way] = {key: median([r[way][key] for r in repeats])
                                for key in ("wall_seconds", "ideal_wall_seconds",
                                            "wall_over_ideal", "busiest_over_mean")}
            runs.append(summary)
    result = {"date": time.strftime("%Y-%m-%d"), "ranks": arguments.ranks,
              "cores": os.cpu_count(), "omp_threads_per_rank": 1, "runs": runs}
    for run in runs:
        d, s = run["dynamic"], run["static"]
        print(f"{run['order']:>10} lr, {run['members']} members (medians of {arguments.repeat}): "
              f"wall / ideal  dynamic {d['wall_over_ideal']:.3f} ({d['wall_seconds']:.2f} s)  "
              f"static {s['wall_over_ideal']:.3f} ({s['wall_seconds']:.2f} s);  busiest rank / "
              f"mean  dynamic {d['busiest_over_mean']:.3f}  static {s['busiest_over_mean']:.3f}")
    if arguments.out:
        with open(arguments.out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
