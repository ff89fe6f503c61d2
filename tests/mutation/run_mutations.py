#!/usr/bin/env python3
"""Mutation check: does the test suite notice a wrong line?

Each mutation in mutations.json replaces one exact piece of the source with a plausible mistake.
For each, this builds BUILD_DIR and runs its tests without the pinned bits (PinnedBits.* fail on
any change at all, so they would say nothing of whether a test knows the right answer) and without
mutation_list (which fails while a mutation is applied), and lists the tests that failed. A
mutation no test notices "survives": a line no test checks. Exit 1 when one survives (or no longer
builds: mutations.json needs mending), 2 on bad use.

    tests/mutation/run_mutations.py BUILD_DIR [NAME ...]
    tests/mutation/run_mutations.py --check     # each mutation's text is in its file once (ctest)

First the suite runs unmutated and must pass. Then the mutations run in place, one at a time; each
file is restored from its bytes in memory after its run, also on Ctrl-C. A file with uncommitted
changes is refused, so nothing of yours is touched. About five minutes a mutation on two cores (a
rebuild and the suite).
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def fail(message):
    print(f"run_mutations: {message}", file=sys.stderr)
    sys.exit(2)


def failed_tests(ctest_output):
    """The names ctest lists under 'The following tests FAILED:'."""
    _, _, tail = ctest_output.partition("The following tests FAILED:")
    return re.findall(r"^\s*\d+ - (\S+)", tail, flags=re.MULTILINE)


def load_mutations():
    """mutations.json, each entry checked: a unique name, a change, its text once in its file."""
    with open(os.path.join(HERE, "mutations.json"), encoding="utf-8") as listing:
        mutations = json.load(listing)
    names = [m["name"] for m in mutations]
    for mutation in mutations:
        if names.count(mutation["name"]) != 1 or mutation["replace"] == mutation["with"]:
            fail(f"{mutation['name']}: a name used twice, or a mutation that changes nothing")
        with open(os.path.join(ROOT, mutation["file"]), encoding="utf-8") as source:
            if source.read().count(mutation["replace"]) != 1:
                fail(f"{mutation['name']}: its text is not in {mutation['file']} exactly once "
                     "(the source moved on: update mutations.json)")
    return mutations


def build_and_test(build_dir, jobs):
    """None where the build fails, else (ctest's exit status, the tests that failed)."""
    build = subprocess.run(["cmake", "--build", build_dir], capture_output=True, text=True)
    if build.returncode != 0:
        return None
    tests = subprocess.run(
        ["ctest", "--test-dir", build_dir, "-E", "PinnedBits|mutation_list", "--parallel",
         str(jobs)],
        capture_output=True, text=True)
    return tests.returncode, failed_tests(tests.stdout)


def run_one(mutation, build_dir, jobs):
    path = os.path.join(ROOT, mutation["file"])
    with open(path, "rb") as source:
        original = source.read()
    text = original.decode("utf-8")
    try:
        with open(path, "w", encoding="utf-8") as target:
            target.write(text.replace(mutation["replace"], mutation["with"]))
        outcome = build_and_test(build_dir, jobs)
        if outcome is None:
            return "does not build", []
        status, caught = outcome
        if status != 0 and not caught:
            return "ctest failed without naming a test", []
        return ("caught" if caught else "SURVIVES"), caught
    finally:
        with open(path, "wb") as target:
            target.write(original)


def main():
    if len(sys.argv) < 2:
        fail("usage: run_mutations.py BUILD_DIR [NAME ...] | --check")
    mutations = load_mutations()
    if sys.argv[1] == "--check":
        print(f"run_mutations: {len(mutations)} mutations, each found once in its file")
        return
    build_dir = os.path.abspath(sys.argv[1])
    if not os.path.isfile(os.path.join(build_dir, "CTestTestfile.cmake")):
        fail(f"invalid BUILD_DIR '{sys.argv[1]}': no CTestTestfile.cmake there (configure and "
             "build it with tests first)")
    wanted = sys.argv[2:]
    unknown = sorted(set(wanted) - {m["name"] for m in mutations})
    if unknown:
        fail(f"invalid NAME '{unknown[0]}': not in mutations.json")
    chosen = [m for m in mutations if not wanted or m["name"] in wanted]
    status = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--"] +
                            sorted({m["file"] for m in chosen}), capture_output=True, text=True)
    if status.returncode != 0:
        fail(f"cannot ask git which sources you changed: {status.stderr.strip()}")
    if status.stdout.strip():
        fail("uncommitted changes in files a mutation edits; commit or stash them:\n" +
             status.stdout.strip())
    jobs = os.cpu_count() or 2
    baseline = build_and_test(build_dir, jobs)  # a suite that fails unmutated would catch anything
    if baseline is None or baseline[0] != 0:
        fail("the build or its tests fail without a mutation: "
             f"{', '.join(baseline[1]) or 'ctest' if baseline else 'the build'}")
    survivors = 0
    for mutation in chosen:
        verdict, caught = run_one(mutation, build_dir, jobs)
        survivors += verdict != "caught"
        print(f"{mutation['name']}: {verdict}" + (f" by {', '.join(caught)}" if caught else ""),
              flush=True)
    subprocess.run(["cmake", "--build", build_dir], capture_output=True)  # the sources as they are
    sys.exit(1 if survivors else 0)


if __name__ == "__main__":
    main()
