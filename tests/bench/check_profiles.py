#!/usr/bin/env python3
"""Checks the profiles gradflow_profiles wrote into DIR: every value a fraction, every curve
non-decreasing, no performance curve above the fraction its method solved (the data profile's end,
whose budget covers the whole run), and at α = 1 every problem that anyone solved counted for at
least one method (the fastest). Exits 1 naming each violation."""
import csv
import sys


def read(path):
    with open(path) as source:
        rows = list(csv.reader(source))
    return rows[0], [[float(v) for v in row] for row in rows[1:]]


def main():
    folder = sys.argv[1]
    problems = []
    for tau in ("0.001", "1e-07"):
        performance = read(f"{folder}/performance_tau{tau}.csv")
        data = read(f"{folder}/data_tau{tau}.csv")
        for name, (header, values) in (("performance", performance), ("data", data)):
            for column, method in enumerate(header[1:], start=1):
                curve = [row[column] for row in values]
                if any(not 0 <= v <= 1 for v in curve):
                    problems.append(f"{name} τ={tau} {method}: a value outside [0, 1]")
                if any(b < a for a, b in zip(curve, curve[1:])):
                    problems.append(f"{name} τ={tau} {method}: decreasing")
        first = performance[1][0][1:]
        last_performance = performance[1][-1][1:]
        last_data = data[1][-1][1:]
        if sum(first) < max(last_data) - 1e-12:
            problems.append(f"τ={tau}: at α = 1 fewer problems than the best solver solved")
        for method, a, b in zip(performance[0][1:], last_performance, last_data):
            if a > b + 1e-12:
                problems.append(f"τ={tau} {method}: performance profile above what it solved")
    for problem in problems:
        print("profile check:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
