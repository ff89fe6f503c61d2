"""Draws a gradflow sweep table (CSV or JSON Lines) as a heatmap, or a trace as convergence curves.

Run by `gradflow plot`; needs numpy and matplotlib (Debian: python3-matplotlib).
heatmap: plot_sweep.py heatmap TABLE X Y VALUE OUT [SIDECAR]
  One cell per (X, Y): the median VALUE over the members with those X and Y (other axes and
  problems pooled), one panel per method on one colour scale. A count (steps, evaluations) is the
  median over the converged members; where each run ended (f, grad_norm, t) over every member, a
  diverged member's value, or one that is not finite, counted as +inf. Cells without a finite
  median are grey and marked x; a grid of at most 12 × 12 cells writes each median in its cell.
  An axis is drawn logarithmically when the sidecar says it was log-spaced (or, without a sidecar,
  when its values are positive and geometric), linearly when its values are evenly spaced, and
  otherwise as one equal cell per value; a small grid labels each cell with its value.
curves: plot_sweep.py curves TABLE X VALUE OUT [SIDECAR]
  A sweep over one axis: the median VALUE (as for the heatmap) against X, one line per method;
  x marks at the foot where it is not finite.
convergence: plot_sweep.py convergence TRACE MEMBERS OUT [TABLE]
  ‖∇f‖ against steps for the listed members (comma-separated; empty: 8 spread over them), each
  labelled with its method and axis values where the sweep's TABLE is given.
fit: plot_sweep.py fit PICTURE_JSON OUT
  A trained neural ODE (gradflow plot --fit): per component, the data, the noise-free path, the
  field's rollout from the path's start (and the collocation states), and the extrapolation.
"""
import csv
import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # an SVG's text stays text (searchable, editable)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_rows(path):
    with open(path) as stream:
        first = stream.read(1)
        stream.seek(0)
        if first == "{":
            return [json.loads(line) for line in stream if line.strip()]
        return list(csv.DictReader(stream))


def is_log(name, values, sidecar):
    if sidecar:
        for axis in sidecar.get("axes", []):
            if axis.get("name") == name:
                return axis.get("spacing") == "log"
    if len(values) < 3 or min(values) <= 0:
        return False
    ratios = [b / a for a, b in zip(values, values[1:])]
    return max(ratios) / min(ratios) < 1.01 and max(ratios) > 1.2


def edges(values, log):
    points = np.log(values) if log else np.asarray(values, dtype=float)
    if len(points) == 1:
        middle = np.array([points[0] - 0.5, points[0] + 0.5])
    else:
        inner = (points[:-1] + points[1:]) / 2
        middle = np.concatenate(([2 * points[0] - inner[0]], inner, [2 * points[-1] - inner[-1]]))
    return np.exp(middle) if log else middle


def is_even(values):
    steps = np.diff(values)
    return len(values) < 3 or (steps.min() > 0 and steps.max() / steps.min() < 1.01)


def placed(axes, which, name, values, sidecar):
    """Where the cells of an axis go: on a log scale when it is log-spaced, on its values when they
    are evenly spaced, else (a list such as 0,0.1,1) one equal cell per value, in order. Returns the
    positions and whether the scale is logarithmic; a grid of few values, or of cells, has a tick
    labelled with each value (at most 12 labels)."""
    log = is_log(name, values, sidecar)
    cells = not log and not is_even(values)
    positions = list(range(len(values))) if cells else values
    if log:
        (axes.set_xscale if which == "x" else axes.set_yscale)("log")
    if len(values) <= 12 or cells:
        every = math.ceil(len(values) / 12)
        set_ticks = axes.set_xticks if which == "x" else axes.set_yticks
        set_ticks(positions[::every], [f"{v:.4g}" for v in values[::every]])
        set_ticks([], minor=True)
        if which == "x" and len(positions[::every]) > 6:
            axes.tick_params(axis="x", labelrotation=45)  # room for up to 12 labels
    return positions, log


# Where a run ended means something for every member; a count only for those that converged (the
# others' is the budget they were given).
END_STATE = ("f", "grad_norm", "t")


def median_of(value):
    """What a picture of VALUE shows, for its title."""
    if value in END_STATE:
        return f"{value} where each run ended (median over all members, diverged as +∞; x: not finite)"
    return f"{value} (median over converged members; x: none converged)"


def median_grid(rows, x, y, value, xs, ys):
    """The median VALUE at each (X, Y) over the members median_of(VALUE) names; NaN where none
    converged, +inf where most diverged. Without Y (ys = [0]), one row: the median at each X."""
    cells = {}
    for r in rows:
        if value in END_STATE:  # JSON Lines write NaN and ∞ as null
            v = math.inf if r[value] in (None, "") or r["status"] == "diverged" else float(r[value])
            v = math.inf if math.isnan(v) else v
        elif r["status"] == "converged" and r[value] not in (None, ""):
            v = float(r[value])
        else:
            continue
        cells.setdefault((float(r[x]), float(r[y]) if y else 0.0), []).append(v)
    grid = np.full((len(ys), len(xs)), np.nan)
    for (cx, cy), values in cells.items():
        grid[ys.index(cy), xs.index(cx)] = float(np.median(values))
    return grid


def spans_decades(finite):
    """Positive values spread over more than a factor 30: drawn on a log scale."""
    return finite.size and finite.min() > 0 and finite.max() / finite.min() > 30


def read_sweep(table, columns, sidecar_path):
    """The table's rows (checked to hold `columns`) and its sidecar (None without one)."""
    rows = read_rows(table)
    if not rows:
        sys.exit(f"gradflow plot: '{table}' has no rows")
    for column in columns:
        if column not in rows[0]:
            sys.exit(f"gradflow plot: '{table}' has no column '{column}' (columns: {', '.join(rows[0])})")
    sidecar = None
    if sidecar_path:
        try:
            with open(sidecar_path) as stream:
                sidecar = json.load(stream)
        except OSError:
            sidecar = None
    return rows, sidecar


def curves(table, x, value, out, sidecar_path=None):
    """A sweep over one axis: VALUE against it, one line per method (median over converged
    members; x at the foot where none converged)."""
    rows, sidecar = read_sweep(table, (x, value), sidecar_path)
    xs = sorted({float(r[x]) for r in rows})
    figure, axes = plt.subplots(figsize=(8, 5))
    px, _ = placed(axes, "x", x, xs, sidecar)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = [median_grid([r for r in rows if r["method"] == m], x, None, value, xs, [0.0])[0]
             for m in methods]
    foot = matplotlib.transforms.blended_transform_factory(axes.transData, axes.transAxes)
    for m, (method, line) in enumerate(zip(methods, lines)):
        drawn = axes.plot(px, line, marker="o", markersize=4, label=method)[0]
        failed = [p for p, v in zip(px, line) if not np.isfinite(v)]
        # Each method's marks on a row of their own, so that one method's do not hide another's.
        axes.plot(failed, [0.02 + 0.03 * m] * len(failed), marker="x", linestyle="none",
                  color=drawn.get_color(), transform=foot)
    if spans_decades(np.concatenate([line[np.isfinite(line)] for line in lines])):
        axes.set_yscale("log")
    axes.margins(y=0.25)  # the foot's rows of marks lie below the lowest line
    axes.set_xlabel(x)
    axes.set_ylabel(value)
    axes.set_title(median_of(value))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    figure.savefig(out, dpi=120, bbox_inches="tight")


def heatmap(table, x, y, value, out, sidecar_path=None):
    rows, sidecar = read_sweep(table, (x, y, value), sidecar_path)
    xs = sorted({float(r[x]) for r in rows})
    ys = sorted({float(r[y]) for r in rows})
    # One panel per method, in the table's order, on one colour scale: methods are compared, never
    # pooled into one median.
    methods = list(dict.fromkeys(r["method"] for r in rows))
    grids = [median_grid([r for r in rows if r["method"] == m], x, y, value, xs, ys) for m in methods]
    figure, panels = plt.subplots(1, len(methods), figsize=(1.5 + 6 * len(methods), 6), sharey=True,
                                  squeeze=False, layout="constrained")
    finite = np.concatenate([grid[np.isfinite(grid)] for grid in grids])
    if not finite.size:
        norm = None
    elif spans_decades(finite):
        norm = matplotlib.colors.LogNorm(finite.min(), finite.max())
    else:
        norm = matplotlib.colors.Normalize(finite.min(), finite.max())
    for axes, method, grid in zip(panels[0], methods, grids):
        (px, log_x), (py, log_y) = placed(axes, "x", x, xs, sidecar), placed(axes, "y", y, ys, sidecar)
        mesh = axes.pcolormesh(edges(px, log_x), edges(py, log_y), np.ma.masked_invalid(grid),
                               cmap="viridis", norm=norm, shading="flat")
        axes.set_facecolor("0.85")
        labelled = len(xs) <= 12 and len(ys) <= 12
        for j, cy in enumerate(py):
            for i, cx in enumerate(px):
                if not np.isfinite(grid[j, i]):
                    axes.plot(cx, cy, marker="x", color="0.45", markersize=4, linestyle="none")
                elif labelled:  # dark text on the scale's light end, light text on its dark end
                    light = mesh.cmap(mesh.norm(grid[j, i]))[:3] @ np.array([0.3, 0.59, 0.11]) > 0.5
                    axes.text(cx, cy, f"{grid[j, i]:.3g}", ha="center", va="center", fontsize=8,
                              color="black" if light else "white")
        axes.set_xlabel(x)
        if len(methods) > 1:
            axes.set_title(method)
    panels[0][0].set_ylabel(y)
    figure.suptitle(median_of(value))
    figure.colorbar(mesh, ax=list(panels[0]), label=value)
    figure.savefig(out, dpi=120)


def member_labels(table, chosen):
    """The chosen members' method and axis values ("rk4, lr 0.05", and the problem where there are
    several) from a sweep's table."""
    rows = read_rows(table) if table else []
    several = len({r["problem"] for r in rows}) > 1
    labels = {}
    for r in rows:
        member = int(r["member"])
        if member in chosen:
            names = list(r)
            axes = names[names.index("method") + 1:names.index("status")]
            parts = [r["method"]] + [f"{a} {float(r[a]):.4g}" for a in axes]
            labels[member] = ", ".join(parts + ([f"problem {r['problem']}"] if several else []))
    return labels


def convergence(trace, members, out, table=""):
    rows = read_rows(trace)
    traced = sorted({int(r["member"]) for r in rows})
    # By default eight members spread from the first traced to the last, so a sweep's ends (and
    # its methods, which number members first) show, not its first corner alone.
    spread = [traced[i] for i in sorted({round(j * (len(traced) - 1) / 7) for j in range(8)})] if traced else []
    chosen = [int(m) for m in members.split(",") if m] if members else spread
    labels = member_labels(table, set(chosen))
    points_of = {member: [] for member in chosen}  # one pass over the trace, not one a member
    for r in rows:
        points = points_of.get(int(r["member"]))
        if points is not None:
            step, norm = int(r["step"]), float(r["grad_norm"])
            if math.isfinite(norm) and norm > 0:
                points.append((step, norm))
    figure, axes = plt.subplots(figsize=(7, 5))
    for member in chosen:
        points = points_of[member]
        if points:
            steps, norms = zip(*sorted(points))
            label = f"member {member}" + (f": {labels[member]}" if member in labels else "")
            axes.semilogy(steps, norms, label=label)
    axes.set_xlabel("accepted steps")
    axes.set_ylabel("‖∇f‖")
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)  # beside, not over, curves
    axes.grid(True, which="both", alpha=0.3)
    figure.savefig(out, dpi=120, bbox_inches="tight")


def fit(picture_path, out):
    with open(picture_path) as stream:
        picture = json.load(stream)
    d = picture["dimension"]

    def columns(path):
        values = np.array([np.nan if v is None else v for v in path["y"]], dtype=float)
        return np.array(path["t"], dtype=float), values.reshape(-1, d)

    figure, axes = plt.subplots(d, 1, figsize=(9, 2.6 * d), sharex=True, squeeze=False)
    for c in range(d):
        axis = axes[c][0]
        t, y = columns(picture["data"])
        axis.plot(t, y[:, c], ".", color="0.6", markersize=3, label="data")
        t, y = columns(picture["truth"])
        axis.plot(t, y[:, c], color="black", linewidth=1, label="noise-free")
        t, y = columns(picture["fit"])
        axis.plot(t, y[:, c], color="tab:blue", linewidth=1.5, label="trained rollout")
        if "states" in picture:
            t, y = columns(picture["states"])
            axis.plot(t, y[:, c], "x", color="tab:green", markersize=3, label="collocation states")
        if "test" in picture:
            t, y = columns(picture["test"])
            axis.plot(t, y[:, c], color="black", linewidth=1, linestyle="--", label="continuation")
            t, y = columns(picture["extrapolation"])
            axis.plot(t, y[:, c], color="tab:orange", linewidth=1.5, label="extrapolation")
        axis.set_ylabel(f"y{c + 1}")
        axis.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the data
    axes[0][0].set_title(picture["title"])
    axes[-1][0].set_xlabel("t")
    figure.tight_layout()
    figure.savefig(out, dpi=120, bbox_inches="tight")


if __name__ == "__main__":
    # One line on failure, never a traceback: gradflow shows it as its own error message.
    try:
        if sys.argv[1] == "heatmap":
            heatmap(*sys.argv[2:])
        elif sys.argv[1] == "curves":
            curves(*sys.argv[2:])
        elif sys.argv[1] == "fit":
            fit(*sys.argv[2:])
        else:
            convergence(*sys.argv[2:])
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - any failure becomes one line
        sys.exit(f"gradflow plot: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
