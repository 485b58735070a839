#!/usr/bin/env python3
"""summary.csv of bench/models/run.sh (bench/scaling's, one name per model) -> a table per
model and rank count: steady-state epoch seconds, sampled edges and trained examples (BPR
seeds) per second per rank, and each phase's share of the epoch:
  sample_wait  the training step waiting for the sampling thread (sampling itself overlaps);
  exchange     fetching embedding rows / features from their owners, pushing row gradients;
  compute      forward and backward;
  allreduce    the dense gradients' all-reduce (what backward did not hide) and the optimizer;
  other        the rest (pipeline start and end, per-epoch reductions).
Usage: report.py DIR
"""
import csv
import os
import sys

PHASES = ["sample_wait", "exchange", "compute", "allreduce", "other"]


def main():
    with open(os.path.join(sys.argv[1], "summary.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["mode"] == "strong"]
    if not rows:
        print("report: no strong-mode results in %s" % sys.argv[1], file=sys.stderr)
        return 1
    first = rows[0]
    print("kgrec training speed per model: %s, %s cores; graph %s users / %s items / %s "
          "entities, global batch %s" % (first["cpu_model"], first["cores"], first["users"],
                                         first["items"], first["entities"], first["batch_size"]))
    print("%-9s %2s %3s %9s %14s %12s  %s" % ("model", "P", "thr", "epoch_s", "edges/s/rank",
                                            "ex/s/rank", "  ".join("%6s" % p[:6] for p in PHASES)))
    for r in sorted(rows, key=lambda r: (r["name"], int(r["P"]))):
        p = int(r["P"])
        epoch = float(r["steady_epoch_seconds"])
        shares = ["%5.1f%%" % (100 * float(r["s_" + ph]) / epoch) for ph in PHASES]
        print("%-9s %2d %3s %9.2f %14.0f %12.0f  %s%s" % (
            r["name"], p, r["threads"], epoch, float(r["edges_per_second"]) / p,
            float(r["examples_per_second"]) / p, "  ".join(shares),
            "" if r["quiet"] == "True" else "  (DISTURBED: others used %s%% CPU)"
            % r["others_busy_during_pct"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
