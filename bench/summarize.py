#!/usr/bin/env python3
"""Turns one run of gradflow_suite (its --benchmark_out JSON) and, when given, the peers' record
(bench/peers/run_peers.py) into the figures a reader needs: ratios formed within that run, the
achieved fraction of the measured ceilings, and the issue's targets marked met, missed or not
measured. Prints a Markdown table; --json writes the same as JSON.

  summarize.py suite.json [more suite JSON of the same check …] [--peers peers.json …]
               [--json summary.json]"""
import argparse
import json
import re
import sys


def load_cases(paths):
    """name -> counters and real_time (seconds) of each case; the median when repeated."""
    cases = {}
    context = {}
    for path in paths:
        run = read_run(path)
        context = context or run.get("context", {})
        add_cases(run, cases)
    return context, cases


def read_run(path):
    """The run's JSON; from a run cut short (a timeout), its context and every complete case."""
    with open(path) as source:
        text = source.read()
    try:
        return json.loads(text)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    run = {"context": {}, "benchmarks": []}
    start = text.find('"benchmarks"')
    if start < 0:
        return run
    position = text.index("[", start) + 1
    while True:
        while position < len(text) and text[position] in " \n\t,":
            position += 1
        try:
            entry, position = decoder.raw_decode(text, position)
        except ValueError:
            return run
        run["benchmarks"].append(entry)


def add_cases(run, cases):
    for entry in run["benchmarks"]:
        if entry.get("error_occurred"):
            continue
        repeated = entry.get("run_type") == "aggregate"
        if repeated and entry.get("aggregate_name") != "median":
            continue
        name = re.sub(r"/(iterations|repeats|manual_time).*$", "", entry["run_name"])
        if not repeated and name in cases:
            continue
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[entry.get("time_unit", "ns")]
        figures = {k: v for k, v in entry.items() if isinstance(v, (int, float))}
        figures["seconds"] = entry["real_time"] * scale
        figures["label"] = entry.get("label", "")
        cases[name] = figures


def ratio(cases, numerator, denominator, figure="seconds"):
    if numerator in cases and denominator in cases and cases[denominator][figure]:
        return cases[numerator][figure] / cases[denominator][figure]
    return None


def target(name, value, goal, compare, unit="", at_least=False):
    """`at_least`: the value is a lower bound (a peer stopped at its time limit), which meets a
    goal of ">=" when it reaches it and otherwise decides nothing."""
    met = None if value is None else (value >= goal if compare == ">=" else value <= goal)
    if at_least and not met:
        met = None
    return dict(target=name, value=value, goal=f"{compare} {goal}{unit}", met=met,
                at_least=at_least)


def roofline_fraction(cases, name, backend, precision):
    """Achieved fraction of whichever ceiling binds the case's products (by their intensity)."""
    ceiling = cases.get(f"ceiling/{backend}/{precision}")
    case = cases.get(name)
    if not ceiling or not case or not case.get("bytes_per_s"):
        return None
    intensity = case["flops_per_s"] / case["bytes_per_s"]
    ridge = ceiling["flops_per_s"] / ceiling["bytes_per_s"] if ceiling["bytes_per_s"] else 0
    if ceiling["flops_per_s"] and intensity > ridge:
        return case["flops_per_s"] / ceiling["flops_per_s"]
    return case["bytes_per_s"] / ceiling["bytes_per_s"]


def summarize(context, cases, peers):
    summary = dict(host=context.get("host_name"), date=context.get("date"),
                   openblas_kernels=context.get("openblas_kernels"), ratios={}, roofline={},
                   targets=[])
    ratios = summary["ratios"]
    for name in cases:
        parts = name.split("/")
        if parts[0] == "batch" and parts[1] == "cuda":
            cpu = "/".join(["batch", "cpu"] + parts[2:])
            ratios[f"gpu_over_cpu {name}"] = ratio(cases, name, cpu, "problems_per_s")
        if parts[0] == "stages" and parts[2] == "fused":
            ratios[f"fused_over_lockstep {name}"] = ratio(
                cases, name, "/".join(parts[:2] + ["lockstep"]), "problems_per_s")
        if parts[0] in ("batch", "size") and parts[2] == "fused":
            lockstep = "/".join(parts[:2] + ["lockstep"] + parts[3:])
            ratios[f"fused_over_lockstep {name}"] = ratio(cases, name, lockstep, "problems_per_s")
        if parts[0] == "objective" and parts[1] == "cuda":
            cpu = "/".join(["objective", "cpu"] + parts[2:])
            ratios[f"gpu_over_cpu {name}"] = ratio(cases, name, cpu, "problems_per_s")
        if parts[0] == "size" and parts[2] == "lockstep":
            summary["roofline"][name] = roofline_fraction(cases, name, parts[1], parts[4])
    for backend in ("cpu", "cuda"):
        base = f"compaction/{backend}"
        ratios[f"masked_over_compacted {backend}"] = ratio(cases, f"{base}/masked", f"{base}/compacted")
        ratios[f"compacted_over_hard_alone {backend}"] = ratio(
            cases, f"{base}/compacted", f"{base}/hard_alone")
        ratios[f"tsit5_flow_over_direct {backend}"] = ratio(
            cases, f"method/{backend}/tsit5_gradient", f"method/{backend}/direct_gradient")
        ratios[f"linearly_implicit_over_tsit5 objective/{backend}"] = ratio(
            cases, f"objective/{backend}/linearly_implicit", f"objective/{backend}/tsit5")

    fused_gpu = cases.get("batch/cuda/fused/f64/1000000")
    fused_cpu = largest_batch(cases, "batch/cpu/fused/f64/")
    targets = summary["targets"]
    gpu_peers = [record for record in peers if not on_cpu(record)]
    for peer in ("jax", "torch"):
        entry = gpu_peers[0].get("peers", {}).get(peer, {}) if gpu_peers else {}
        targets.append(target(f"fused Tsit5 f64 seed B=1e6: gradflow over {peer} (same GPU)",
                              entry.get("gradflow_speedup"), 10, ">=", "x"))
    # The CPU's own targets (issue 16): each peers' record on the CPU (one batch size and precision).
    for record in filter(on_cpu, peers):
        label = f"B={record['batch']} {record.get('precision', 'f64')}"
        for peer, goal in (("torchode", 20), ("jax", 50)):
            if peer not in record.get("peers", {}):
                continue
            entry = record["peers"][peer]
            bound = "gradflow_speedup_at_least" in entry
            targets.append(target(f"CPU fused Tsit5 seed {label}: gradflow over {peer} (same cores)",
                                  entry.get("gradflow_speedup_at_least" if bound else
                                            "gradflow_speedup"), goal, ">=", "x", bound))
    ratios["gradflow_over_openblas_loop cpu"] = ratio(
        cases, "blas_loop/cpu/openblas", "blas_loop/cpu/gradflow")
    targets.append(target("CPU 200 Euler steps B=1e5: gradflow over the OpenBLAS loop",
                          ratios["gradflow_over_openblas_loop cpu"], 3, ">=", "x"))
    for precision in ("f64", "f32"):
        fused = largest_batch(cases, f"batch/cpu/fused/{precision}/")
        ceiling = cases.get(f"ceiling/cpu/{precision}")
        fraction = (fused["step_flops_per_s"] / ceiling["flops_per_s"]
                    if fused and ceiling and fused.get("step_flops_per_s") else None)
        summary["roofline"][f"step flops over GEMM ceiling batch/cpu/fused/{precision}"] = fraction
        targets.append(target(f"CPU fused Tsit5 seed {precision}, largest B: every flop of a step "
                              "over the GEMM ceiling", fraction, 0.25, ">="))
    f64 = largest_batch(cases, "batch/cpu/fused/f64/")
    f32 = largest_batch(cases, "batch/cpu/fused/f32/")
    if f64 and f32:
        ratios["f32_over_f64 problems/s batch/cpu/fused"] = f32["problems_per_s"] / f64["problems_per_s"]
        ratios["f32_over_f64 steps/s batch/cpu/fused"] = (
            f32["problems_per_s"] * f32["steps_p50"]) / (f64["problems_per_s"] * f64["steps_p50"])
    targets.append(target("CPU fused Tsit5 seed, largest B: f32 over f64 (problems/s)",
                          ratios.get("f32_over_f64 problems/s batch/cpu/fused"), 1.8, ">=", "x"))
    targets.append(target(
        "fused Tsit5 f64 seed B=1e6: GPU over the CPU backend (problems/s)",
        fused_gpu["problems_per_s"] / fused_cpu["problems_per_s"] if fused_gpu and fused_cpu else None,
        50, ">=", "x"))
    large = [v for n, v in summary["roofline"].items()
             if n.startswith("size/cuda/") and int(n.split("/")[-2]) >= 128 and v is not None]
    targets.append(target("lockstep n>=128: worst fraction of the binding ceiling",
                          min(large) if large else None, 0.7, ">="))
    targets.append(target("compaction: 90%-easy batch over its hard 10% alone (GPU)",
                          ratios.get("compacted_over_hard_alone cuda"), 1.3, "<=", "x"))
    summary["ratios"] = {k: v for k, v in ratios.items() if v is not None}
    return summary


def on_cpu(record):
    return record.get("gradflow", {}).get("backend") == "cpu"


def largest_batch(cases, prefix):
    return max((c for n, c in cases.items() if n.startswith(prefix)),
               key=lambda c: c.get("batch_size", 0), default=None)


def markdown(summary):
    lines = []
    if summary.get("openblas_kernels"):
        lines += [f"CPU GEMM ceiling and BLAS loop on OpenBLAS's {summary['openblas_kernels']} "
                  "kernels.", ""]
    lines += ["| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value:.3g} |" for name, value in summary["ratios"].items()]
    lines += [f"| roofline {name} | {value:.2f} |"
              for name, value in summary["roofline"].items() if value is not None]
    lines += ["", "| target | goal | measured | met |", "|---|---|---|---|"]
    for t in summary["targets"]:
        value = "not measured" if t["value"] is None else f"{t['value']:.3g}"
        if t.get("at_least") and t["value"] is not None:
            value = "≥ " + value
        met = {None: "—", True: "yes", False: "no"}[t["met"]]
        lines.append(f"| {t['target']} | {t['goal']} | {value} | {met} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", nargs="+")
    parser.add_argument("--peers", action="append", default=[],
                        help="a peers' record (run_peers.py); repeat for several")
    parser.add_argument("--json")
    args = parser.parse_args()
    context, cases = load_cases(args.suite)
    peers = []
    for path in args.peers:
        with open(path) as source:
            peers.append(json.load(source))
    summary = summarize(context, cases, peers)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(summary, out, indent=2)
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
