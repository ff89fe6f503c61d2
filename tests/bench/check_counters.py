#!/usr/bin/env python3
"""Checks the counters of one short gradflow_suite run (its JSON) against what they must be:
rates times the measured time give back the counted work, FLOP/s over GB/s is the products'
arithmetic intensity 2n²k / (bytes·(n² + 2nk)), fractions lie in [0, 1], quantiles are ordered,
every timed case reached its stated accuracy, compaction ran only where asked, and the OpenBLAS loop
agrees with gradflow and the run names OpenBLAS's kernels. Exits 1 naming each violation."""
import json
import re
import sys

SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def shape_of(name):
    """(n, k, bytes per value) of a case from its name."""
    parts = name.split("/")
    real_bytes = 4 if "f32" in parts else 8
    if parts[0] == "size":
        return int(parts[5]), int(parts[6]), real_bytes
    if parts[0] == "stages":
        return 8, 2, real_bytes
    return 5, 2, real_bytes  # the seed problem


def check(run):
    entries = run["benchmarks"]
    problems = []
    seen = set()

    def expect(condition, name, what):
        if not condition:
            problems.append(f"{name}: {what}")

    for entry in entries:
        name = re.sub(r"/(iterations|repeats|manual_time).*$", "", entry["run_name"])
        seen.add(name.split("/")[0])
        if entry.get("error_occurred"):
            expect("no CUDA device" in entry.get("error_message", ""), name,
                   "failed: " + entry.get("error_message", ""))
            continue
        if name.startswith("ceiling/"):
            expect(entry["bytes_per_s"] > 0, name, "no copy bandwidth")
            continue
        seconds = entry["real_time"] * SCALE[entry["time_unit"]]
        if name == "blas_loop/cpu/openblas":
            expect(entry["max_difference_from_gradflow"] < 1e-10, name, "disagrees with gradflow")
            continue
        n, k, real_bytes = shape_of(name)
        batch = entry["batch_size"]
        expect(abs(entry["problems_per_s"] * seconds / batch - 1) < 1e-6, name,
               "problems/s times the time is not the batch size")
        if entry["bytes_per_s"] > 0:
            intensity = 2.0 * n * n * k / (real_bytes * (n * n + 2.0 * n * k))
            expect(abs(entry["flops_per_s"] / entry["bytes_per_s"] / intensity - 1) < 1e-9, name,
                   "FLOP/s over bytes/s is not the products' intensity")
        for fraction in ("wasted_on_stopped", "wasted_on_rejections", "converged_fraction"):
            expect(0 <= entry[fraction] <= 1, name, f"{fraction} = {entry[fraction]}")
        expect(entry["steps_p50"] <= entry["steps_p99"], name, "p50 steps above p99")
        if not name.startswith("blas_loop/"):  # that one runs a fixed number of steps
            expect(entry["converged_fraction"] == 1, name, "did not reach the stated accuracy")
        if name.startswith("compaction/"):
            expect((entry["compactions"] > 0) == (not name.endswith("/masked")), name,
                   f"compactions = {entry['compactions']}")
    for family in ("ceiling", "batch", "size", "compaction", "method", "objective"):
        expect(family in seen, family, "no case ran")
    if "blas_loop" in seen:  # the ceiling and the loop are read knowing which kernels ran them
        expect(run["context"].get("openblas_kernels"), "context", "OpenBLAS's kernels not named")
    return problems


def main():
    with open(sys.argv[1]) as source:
        problems = check(json.load(source))
    for problem in problems:
        print("counter check:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
