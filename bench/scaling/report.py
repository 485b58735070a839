#!/usr/bin/env python3
"""results.jsonl of bench/scaling/run.sh -> results.csv, summary.csv, plots.

Usage: report.py DIR      (reads DIR/results.jsonl, writes into DIR)

- results.csv: one row per epoch of every run (nested metrics flattened, e.g.
  seconds_per_rank.compute).
- summary.csv: one row per (mode, P): first-epoch and steady-state epoch seconds (the mean of
  epochs 2..N of a run; epoch 1 alone if the run had one; over repeats, the median of the
  quiet runs (others used <= KGREC_SCALING_QUIET_PCT = 10 % of the CPUs during the run), or
  the least disturbed run when none was quiet: column quiet),
  speed-up and parallel efficiency, the time breakdown and bytes per rank (steady-state
  means). Both relative to the smallest P measured (P0, normally 1). strong: speed-up
  S(P) = P0 * T(P0) / T(P), efficiency S / P. weak: efficiency T(P0) / T(P) (ideal 1),
  scaled speed-up P * efficiency.
- speedup.png, efficiency.png, breakdown.png (gnuplot, bench/scaling/plot.gp), if gnuplot
  is installed.
"""
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys

PHASES = ["sample_wait", "exchange", "compute", "allreduce"]
# A run is quiet when other processes used at most this share of the CPUs during it.
QUIET_PCT = float(os.environ.get("KGREC_SCALING_QUIET_PCT", "10"))
BYTES = ["embedding_exchange", "feature_exchange", "neighbour_requests", "allreduce"]


def flatten(row, prefix=""):
    out = {}
    for k, v in row.items():
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def runs_of(rows):
    """Groups epoch lines into runs, keyed by (name, started, mode, P, repeat)."""
    runs = {}
    for r in rows:
        key = (r.get("name", ""), r.get("started", ""), r["mode"], r["P"], r["threads"],
               r.get("repeat", 1))
        runs.setdefault(key, []).append(r)
    return runs


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def run_summary(epochs):
    epochs = sorted(epochs, key=lambda r: r["epoch"])
    steady = [r for r in epochs if r["epoch"] >= 2] or epochs[:1]
    first = epochs[0]
    s = {k: first[k] for k in ("mode", "P", "threads", "cores", "oversubscribed", "users", "items",
                                "entities", "batch_size", "model", "steps", "num_nodes",
                                "num_edges", "num_train", "edge_cut_fraction", "remote_fraction",
                                "node_balance", "train_edge_balance", "cpu_model", "name", "mpi_args") if k in first}
    s["epochs_steady"] = len(steady)
    s["first_epoch_seconds"] = first["epoch_seconds"]
    s["steady_epoch_seconds"] = mean([r["epoch_seconds"] for r in steady])
    s["steady_min_epoch_seconds"] = min(r["epoch_seconds"] for r in steady)
    s["steady_max_epoch_seconds"] = max(r["epoch_seconds"] for r in steady)
    s["examples_per_second"] = mean([r["examples_per_second"] for r in steady])
    s["edges_per_second"] = mean([r["edges_per_second"] for r in steady])
    s["sampled_edges"] = mean([r["edges_per_second"] * r["epoch_seconds"] for r in steady])
    for ph in PHASES:
        s["s_" + ph] = mean([r["seconds_per_rank"][ph] for r in steady])
    # What the four phases do not cover: pipeline start and end, the epoch's own reductions.
    s["s_other"] = max(0.0, s["steady_epoch_seconds"] - sum(s["s_" + ph] for ph in PHASES))
    for b in BYTES:
        s["bytes_" + b] = mean([r["bytes_per_rank"][b] for r in steady])
    s["load_before"] = first.get("load_before")
    s["load_after"] = first.get("load_after")
    s["others_busy_before_pct"] = first.get("others_busy_before_pct")
    s["others_busy_during_pct"] = first.get("others_busy_during_pct")
    s["others_busy_after_pct"] = first.get("others_busy_after_pct")
    s["wall_seconds"] = first.get("wall_seconds")
    return s


def summarise(rows):
    per_point = {}
    for key, epochs in runs_of(rows).items():
        s = run_summary(epochs)
        per_point.setdefault((s.get("name", ""), s["mode"], s["P"], s["threads"]), []).append(s)
    points = []
    for (name, mode, p, t), runs in sorted(per_point.items()):
        # Runs during which other processes used little CPU; if none, the least disturbed.
        quiet = [r for r in runs if (r["others_busy_during_pct"] or 0) <= QUIET_PCT]
        pool = quiet or [min(runs, key=lambda r: r["others_busy_during_pct"] or 0)]
        pool.sort(key=lambda s: s["steady_epoch_seconds"])
        med = pool[(len(pool) - 1) // 2]  # the median run (lower median for an even count)
        s = dict(med)
        s["repeats"] = len(runs)
        s["quiet"] = bool(quiet)
        s["steady_epoch_seconds_all"] = " ".join("%.3f" % r["steady_epoch_seconds"] for r in runs)
        points.append(s)
    for name, mode in sorted({(s.get("name", ""), s["mode"]) for s in points}):
        pts = [s for s in points if s["mode"] == mode and s.get("name", "") == name]
        if not pts:
            continue
        base = min(pts, key=lambda s: (s["P"], s["threads"]))
        for s in pts:
            if mode == "threads":  # P = 1: speed-up over the fewest threads
                s["speedup"] = base["steady_epoch_seconds"] / s["steady_epoch_seconds"]
                s["efficiency"] = s["speedup"] * base["threads"] / s["threads"]
                s["speedup_first"] = base["first_epoch_seconds"] / s["first_epoch_seconds"]
            elif mode == "strong":
                s["speedup"] = base["P"] * base["steady_epoch_seconds"] / s["steady_epoch_seconds"]
                s["efficiency"] = s["speedup"] / s["P"]
                s["speedup_first"] = base["P"] * base["first_epoch_seconds"] / s["first_epoch_seconds"]
            else:
                s["efficiency"] = base["steady_epoch_seconds"] / s["steady_epoch_seconds"]
                s["speedup"] = s["P"] * s["efficiency"]
                s["speedup_first"] = s["P"] * base["first_epoch_seconds"] / s["first_epoch_seconds"]
            s["throughput_ratio"] = s["examples_per_second"] / base["examples_per_second"]
    return points


def write_csv(path, rows):
    keys = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow(r)


def main():
    out = sys.argv[1]
    rows = load(os.path.join(out, "results.jsonl"))
    if not rows:
        print("report: no results in %s/results.jsonl" % out, file=sys.stderr)
        return 1
    write_csv(os.path.join(out, "results.csv"), [flatten(r) for r in rows])
    points = summarise(rows)
    write_csv(os.path.join(out, "summary.csv"), points)
    hdr = "%-8s %-6s %2s %3s %5s %8s %8s %7s %6s  %7s %7s %7s %7s  %s" % (
        "name", "mode", "P", "thr", "over", "first_s", "steady_s", "speedup", "eff", "sample",
        "exch", "compute", "allred", "others% during (quiet?)")
    print(hdr)
    for s in points:
        print("%-8s %-6s %2d %3d %5s %8.3f %8.3f %7.2f %6.2f  %7.3f %7.3f %7.3f %7.3f  %s (%s)" % (
            s.get("name") or "-", s["mode"], s["P"], s["threads"], "yes" if s["oversubscribed"] else "no",
            s["first_epoch_seconds"], s["steady_epoch_seconds"], s["speedup"], s["efficiency"],
            s["s_sample_wait"], s["s_exchange"], s["s_compute"], s["s_allreduce"],
            s["others_busy_during_pct"], "quiet" if s["quiet"] else "DISTURBED"))
    # Data for gnuplot: one file per mode, the series of the first result line's name only.
    main_name = rows[0].get("name", "")
    points = [s for s in points if s.get("name", "") == main_name]
    for mode in ("strong", "weak"):
        with open(os.path.join(out, "%s.dat" % mode), "w") as f:
            f.write("# P speedup efficiency first_s steady_s sample_wait exchange compute allreduce other\n")
            for s in points:
                if s["mode"] == mode:
                    f.write("%d %.5f %.5f %.5f %.5f %.5f %.5f %.5f %.5f %.5f\n" % (
                        s["P"], s["speedup"], s["efficiency"], s["first_epoch_seconds"],
                        s["steady_epoch_seconds"], s["s_sample_wait"], s["s_exchange"],
                        s["s_compute"], s["s_allreduce"], s["s_other"]))
    if shutil.which("gnuplot"):
        first = rows[0]
        title = "kgrec %s, %s, %d cores" % (first.get("model", ""), first.get("cpu_model", ""),
                                            first.get("cores", 0))
        here = os.path.dirname(os.path.abspath(__file__))
        modes = {s["mode"] for s in points}
        maxp = max(s["P"] for s in points if s["mode"] != "threads")
        subprocess.run(["gnuplot", "-e", "dir='%s'; machine='%s'; maxp=%d; cores=%d; has_strong=%d; has_weak=%d"
                        % (out, title, maxp, first.get("cores", 1), "strong" in modes, "weak" in modes),
                        os.path.join(here, "plot.gp")], check=True)
        print("plots: %s/{speedup,efficiency,breakdown}.png" % out)
    else:
        print("report: no gnuplot, no plots (apt-get install gnuplot-nox)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
