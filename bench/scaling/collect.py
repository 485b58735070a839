#!/usr/bin/env python3
"""One run of bench/scaling/run.sh -> result lines.

Usage: collect.py METRICS.jsonl MANIFEST.json < header.json >> results.jsonl

Each metrics line of `kgrec train --metrics-out` (one per epoch) is written back with the
run's settings (the header: mode, P, threads, graph sizes, machine, load) and a few numbers
from the partition manifest added at the top level, so results.jsonl is self-contained.
"""
import json
import sys


def main():
    metrics_path, manifest_path = sys.argv[1], sys.argv[2]
    header = json.loads(sys.stdin.read())
    with open(manifest_path) as f:
        manifest = json.load(f)
    fetch = manifest.get("fetch_per_epoch", {})
    sampled = sum(fetch.get("sampled_nodes", [])) or 0
    remote = sum(fetch.get("remote_nodes", [])) or 0
    header.update({
        "num_nodes": manifest.get("num_nodes"),
        "num_edges": manifest.get("num_edges"),
        "num_train": manifest.get("num_train"),
        "edge_cut_fraction": manifest.get("edge_cut_fraction"),
        "node_balance": manifest.get("node_balance"),
        "train_edge_balance": manifest.get("train_edge_balance"),
        # The partitioner's estimate of the share of a rank's sampled nodes owned by another
        # rank (docs/partition.md): the part of the exchanged rows that crosses a link.
        "remote_fraction": remote / sampled if sampled else 0.0,
    })
    # CPU time of other processes during the run: all busy CPU time on the machine minus the
    # job's own (mpirun and its ranks), as a share of the CPUs over the wall time.
    wall, cores = header["wall_seconds"], header["cores"]
    others = max(0.0, header["machine_cpu_seconds"] - header["job_cpu_seconds"])
    header["others_busy_during_pct"] = round(100.0 * others / (wall * cores), 1) if wall > 0 else 0.0
    with open(metrics_path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            row = dict(header)
            row.update(json.loads(line))
            print(json.dumps(row, sort_keys=True))


if __name__ == "__main__":
    main()
