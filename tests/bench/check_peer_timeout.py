#!/usr/bin/env python3
"""Checks run_peers.py's --peer-timeout on a small batch with its NumPy peer: with time to spare the
peer's answer comes back from its own process and agrees with the direct solve; with a limit that no
process start can meet (a microsecond) the record says the peer had no result, stopped in its
warm-up, and claims no ratio. Exits 1 naming each violation.

  check_peer_timeout.py PYTHON RUN_PEERS GRADFLOW FOLDER"""
import json
import os
import subprocess
import sys


def run_peers(python, script, gradflow, limit, out):
    subprocess.run([python, script, "--gradflow", gradflow, "--batch", "200", "--peers", "numpy",
                    "--backend", "cpu", "--peer-timeout", limit, "--out", out],
                   check=True, stdout=subprocess.DEVNULL)
    with open(out) as record:
        return json.load(record)["peers"]["numpy"]


def main():
    python, script, gradflow, folder = sys.argv[1:5]
    failures = []
    finished = run_peers(python, script, gradflow, "600", os.path.join(folder, "peer_in_time.json"))
    if not (finished.get("agrees") and finished.get("gradflow_speedup", 0) > 0):
        failures.append(f"a peer with time to spare: {finished}")
    late_record = os.path.join(folder, "peer_late.json")
    late = run_peers(python, script, gradflow, "1e-6", late_record)
    if late.get("no_result_within_s") != 1e-6 or "gradflow_speedup" in late or "stopped_in" not in late:
        failures.append(f"a peer stopped in its warm-up: {late}")
    for failure in failures:
        print("violation:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
