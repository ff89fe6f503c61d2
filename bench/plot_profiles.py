#!/usr/bin/env python3
"""Draws the performance and data profiles written by gradflow_profiles into one PNG.

  plot_profiles.py DIR [-o profiles.png]"""
import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)


def read(path):
    with open(path) as source:
        rows = list(csv.reader(source))
    header, values = rows[0], [[float(v) for v in row] for row in rows[1:]]
    return header, values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("-o", "--out", default="profiles.png")
    args = parser.parse_args()
    figure, axes = plt.subplots(2, 2, figsize=(12, 9), sharey=True)
    panels = [("performance", "1e-03", "performance ratio α", "ρ(α)"),
              ("performance", "1e-07", "performance ratio α", "ρ(α)"),
              ("data", "1e-03", "budget κ (simplex gradients, n + 1 evaluations)", "d(κ)"),
              ("data", "1e-07", "budget κ (simplex gradients, n + 1 evaluations)", "d(κ)")]
    for axis, (kind, tau, xlabel, ylabel) in zip(axes.flat, panels):
        name = f"{kind}_tau{float(tau):g}.csv"
        header, values = read(os.path.join(args.folder, name))
        x = [row[0] for row in values]
        for column, method in enumerate(header[1:], start=1):
            # More methods than a colour cycle holds: solid, then dashed.
            axis.step(x, [row[column] for row in values], where="post", label=method,
                      color=f"C{(column - 1) % 10}", linestyle="-" if column <= 10 else "--")
        axis.set_xscale("log", base=2 if kind == "performance" else 10)
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.set_title(f"{kind} profile, τ = {tau}")
        axis.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="lower right")
    figure.suptitle("Moré–Garbow–Hillstrom set × (x0, 10·x0, 100·x0)")
    figure.tight_layout()
    figure.savefig(args.out, dpi=90)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
