#!/usr/bin/env python3
"""Before/after of one machine: the same gradflow_suite cases run by two builds, their runs
interleaved (before, after, before, after …) so that load drifts hit both alike. Prints each case's
time after/before and their geometric mean; --json writes the same.

  compare_suites.py --before b1.json [b2.json …] --after a1.json [a2.json …] [--json out.json]"""
import argparse
import json
import math

from summarize import load_cases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", nargs="+", required=True)
    parser.add_argument("--after", nargs="+", required=True)
    parser.add_argument("--json")
    arguments = parser.parse_args()
    context, before = load_cases(arguments.before)
    _, after = load_cases(arguments.after)
    shared = sorted(set(before) & set(after))
    if not shared:
        raise SystemExit("no case is in both runs")
    ratios = {name: after[name]["seconds"] / before[name]["seconds"] for name in shared}
    geometric_mean = math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))
    print("| case | before (s) | after (s) | after/before |")
    print("|---|---|---|---|")
    for name in shared:
        print(f"| {name} | {before[name]['seconds']:.4g} | {after[name]['seconds']:.4g} "
              f"| {ratios[name]:.3f} |")
    print(f"\ngeometric mean after/before over {len(shared)} cases: {geometric_mean:.3f} "
          f"(host {context.get('host_name', '?')}, {context.get('num_cpus', '?')} CPUs)")
    if arguments.json:
        with open(arguments.json, "w") as out:
            json.dump({"context": context, "ratios": ratios, "geometric_mean": geometric_mean,
                       "before": {n: before[n]["seconds"] for n in shared},
                       "after": {n: after[n]["seconds"] for n in shared}}, out, indent=1)


if __name__ == "__main__":
    main()
