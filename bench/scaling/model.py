#!/usr/bin/env python3
"""Cost model of a distributed training epoch (docs/scaling.md), calibrated on results.jsonl.

Usage: model.py RESULTS_DIR [--volumes DIR ...] [--markdown OUT.md]

Per rank and steady-state epoch of P ranks with T compute threads each (S steps; E sampled
edges over all ranks; V embedding-exchange bytes per rank, what crosses ranks; A all-reduce
bytes per rank), on C cores shared by all ranks:

  phi   = min(1, C / (P (1 + u)))                      CPU share of a rank: its training
                                                         thread plus u cores of sampling thread
                                                         and MPI polling; u = u_spin while
                                                         P <= C, u_yield when P > C (Open MPI
                                                         then yields instead of busy-polling)
  T(P)  = iota E / (P r_c(T) phi)                        compute, slowest rank
        + E / (P r_l(T) phi)                             local row work: gather, sparse Adam
        + V beta + S (P - 1) alpha                       embedding exchange
        + A beta + 2 S (P - 1) alpha   (if A > 0)        dense all-reduce (ring)
        + S o / phi                                      dense optimizer step (sage)
        + S w + t_0                                      batch wait, epoch overhead

Calibration (every other point is a prediction; all are listed with their error):
  r_c(T), r_l(T), w, o, t_0  the P = 1 runs on the strong graph (modes threads and strong)
  u_spin, u_yield          the compute time of the strong P = 2 and P = 4 runs
  beta, alpha              the exchange time of the strong P = 2 and P = 4 runs
So strong P = 8 and every weak point are predictions.
iota is the partition's training-edge balance (max / mean), from its manifest.
beta is an effective cost per byte: the link's 1 / bandwidth plus the CPU work per exchanged
byte (planning, packing, scattering); build/bench/allreduce_bench's bandwidth (if run.sh ran
it) separates the two: beta_cpu = beta - 1 / B_link.

The extrapolation (--volumes: folders of 1-epoch runs at larger P, for the bytes and edges per
rank) replaces the machine by scenario hardware: dedicated cores or GPUs per rank (phi = 1),
a network link of given bandwidth and latency.
"""
import argparse
import json
import math
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def load_points(d, other_series=False):
    """The summary points of the series named as the first result line (run.sh --name), or
    with other_series, those of the other series."""
    rows = report.load(os.path.join(d, "results.jsonl"))
    name = rows[0].get("name", "") if rows else ""
    return [p for p in report.summarise(rows) if (p.get("name", "") == name) != other_series]


def interp(table, t):
    """Rate at t threads from {threads: rate}: piecewise linear, flat beyond the ends."""
    ks = sorted(table)
    if t <= ks[0]:
        return table[ks[0]]
    for a, b in zip(ks, ks[1:]):
        if t <= b:
            return table[a] + (table[b] - table[a]) * (t - a) / (b - a)
    return table[ks[-1]]


def quietest(points):
    return min(points, key=lambda p: p.get("others_busy_during_pct") or 0)


class Model:
    def __init__(self, points):
        ones = [p for p in points if p["P"] == 1 and p["mode"] in ("threads", "strong")]
        if not ones:
            raise SystemExit("model: needs P = 1 runs on the strong graph (modes threads, strong)")
        by_t = {}
        for p in ones:
            by_t.setdefault(p["threads"], []).append(p)
        self.base = {t: quietest(ps) for t, ps in by_t.items()}
        self.cores = ones[0]["cores"]
        self.r_c = {t: p["sampled_edges"] / p["s_compute"] for t, p in self.base.items()}
        self.r_l = {t: p["sampled_edges"] / max(p["s_exchange"], 1e-9) for t, p in self.base.items()}
        self.w = sum(p["s_sample_wait"] / p["steps"] for p in self.base.values()) / len(self.base)
        # the dense optimizer step (sage's weights; none for lightgcn), per step, at P = 1
        self.opt = sum(p["s_allreduce"] / p["steps"] for p in self.base.values()) / len(self.base)
        self.t0 = sum(p["s_other"] for p in self.base.values()) / len(self.base)
        self.u_spin = 0.0
        self.u_yield = None
        self.beta = 0.0
        self.alpha = 0.0
        strong = {p["P"]: p for p in points if p["mode"] == "strong" and p["P"] > 1}
        # The two smallest P > 1: one at most C ranks (busy-polling MPI), one above if any.
        spin = [strong[k] for k in sorted(strong) if k <= self.cores]
        over = [strong[k] for k in sorted(strong) if k > self.cores]
        self.share_points = []
        if spin:
            self.u_spin = self.fit_share(spin[0])
        if over:
            self.u_yield = self.fit_share(over[0])
        if self.u_yield is None:
            self.u_yield = self.u_spin
        self.fit_link(self.share_points)

    def u(self, p):
        if p["P"] > self.cores or "mpi_yield_when_idle 1" in (p.get("mpi_args") or ""):
            return self.u_yield
        return self.u_spin

    def phi(self, p):
        return min(1.0, self.cores / (p["P"] * (1.0 + self.u(p))))

    def fit_share(self, p):
        """u from one run's compute time: phi = unshared prediction / measured."""
        self.share_points.append(p)
        unshared = p["sampled_edges"] / (p["P"] * interp(self.r_c, p["threads"]))
        unshared *= p.get("train_edge_balance") or 1.0
        phi = min(1.0, unshared / p["s_compute"])
        return max(0.0, self.cores / (p["P"] * phi) - 1.0) if phi < 1.0 else 0.0

    def parts(self, p, beta=None, alpha=None):
        """Predicted components (seconds per rank and epoch) of point p."""
        beta = self.beta if beta is None else beta
        alpha = self.alpha if alpha is None else alpha
        P, S, E, T = p["P"], p["steps"], p["sampled_edges"], p["threads"]
        phi = self.phi(p)
        iota = p.get("train_edge_balance") or 1.0
        comp = E / (P * interp(self.r_c, T) * phi)
        local = E / (P * interp(self.r_l, T) * phi)
        link = p["bytes_embedding_exchange"] * beta + S * (P - 1) * alpha
        ar = (p["bytes_allreduce"] * beta + 2 * S * (P - 1) * alpha) if P > 1 and p["bytes_allreduce"] > 0 else 0.0
        ar += S * self.opt / phi
        wait = (iota - 1.0) * comp  # the other ranks wait for the slowest in the exchange
        return {
            "compute": comp, "exchange": local + link + wait, "link": link, "allreduce": ar,
            "sample_wait": S * self.w, "other": self.t0,
            "total": iota * comp + local + link + ar + S * self.w + self.t0,
        }

    def fit_link(self, pts):
        """Least squares for beta, alpha >= 0 over y = exchange - predicted local work - wait."""
        self.link_points = pts
        rows = []
        for p in pts:
            q = self.parts(p, beta=0.0, alpha=0.0)
            rows.append((p["bytes_embedding_exchange"], p["steps"] * (p["P"] - 1),
                         p["s_exchange"] - q["exchange"]))
        if not rows:
            return
        sxx = sum(a * a for a, _, _ in rows)
        syy = sum(b * b for _, b, _ in rows)
        sxy = sum(a * b for a, b, _ in rows)
        sxz = sum(a * z for a, _, z in rows)
        syz = sum(b * z for _, b, z in rows)
        det = sxx * syy - sxy * sxy
        beta = alpha = -1.0
        if len(rows) >= 2 and det > 1e-9 * sxx * syy:
            beta = (sxz * syy - syz * sxy) / det
            alpha = (syz * sxx - sxz * sxy) / det
        if beta < 0 or alpha < 0:  # the better of bandwidth only and latency only
            b_only = max(0.0, sxz / sxx) if sxx > 0 else 0.0
            a_only = max(0.0, syz / syy) if syy > 0 else 0.0
            err_b = sum((z - b_only * a) ** 2 for a, _, z in rows)
            err_a = sum((z - a_only * b) ** 2 for _, b, z in rows)
            beta, alpha = (b_only, 0.0) if err_b <= err_a else (0.0, a_only)
        self.beta, self.alpha = beta, alpha

    def role(self, p):
        if p["P"] == 1 and p["mode"] in ("threads", "strong") and self.base.get(p["threads"]) is p:
            return "rates"
        if p["P"] == 1 and p["mode"] in ("threads", "strong") and p["threads"] in self.base:
            return "(= rates run, T=%d)" % p["threads"]  # the same setup as a calibration run
        if p in self.share_points:
            return "u_spin, link" if p["P"] <= self.cores else "u_yield, link"
        return ""


def linkbench(d):
    """The latency and bandwidth of build/bench/allreduce_bench's MPI all-reduce, per P:
    latency = the shortest time of the three smallest messages (4 to 64 KiB) / (2 (P - 1))
    (ring steps); bandwidth = the best
    bus bandwidth 2 (P - 1) / P * bytes / time over 256 KiB .. 4 MiB messages."""
    out = {}
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d)):
        if not (name.startswith("allreduce-p") and name.endswith(".json")):
            continue
        with open(os.path.join(d, name)) as f:
            data = json.load(f)
        P = int(name[len("allreduce-p"):-len(".json")])
        pts = []
        for b in data.get("benchmarks", []):
            if not b["name"].startswith("AllReduce/"):
                continue
            nbytes = float(b["name"].split("/")[2])
            t = b["real_time"] * {"us": 1e-6, "ms": 1e-3, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
            pts.append((nbytes, t))
        if not pts or P < 2:
            continue
        pts.sort()
        small = min(t for n, t in pts[:3])
        big = [(n, t) for n, t in pts if (256 << 10) <= n <= (4 << 20)]
        bw = max(2 * (P - 1) / P * n / t for n, t in big) if big else float("nan")
        out[P] = {"alpha_s": small / (2 * (P - 1)), "bandwidth_Bps": bw, "points": pts,
                  "others_busy_before_pct": data.get("others_busy_before_pct")}
    return out


def per_rank_volumes(points, mode):
    """{P: (steps, sampled edges per rank, exchange bytes per rank, all-reduce bytes per rank)}
    of the runs of `mode` (volumes do not depend on the machine: any run at that P will do)."""
    vol = {}
    for p in points:
        if p["mode"] == mode and p["P"] not in vol:
            vol[p["P"]] = (p["steps"], p["sampled_edges"] / p["P"], p["bytes_embedding_exchange"],
                           p["bytes_allreduce"])
    return vol


def volume_at(vol, P):
    """Measured, or extrapolated per rank as a power law through the two largest P."""
    if P in vol:
        return vol[P] + (True,)
    ks = sorted(vol)
    a, b = ks[-2], ks[-1]
    out = [vol[b][0]]
    for i in (1, 2):
        va, vb = vol[a][i], vol[b][i]
        k = math.log(vb / va) / math.log(b / a) if va > 0 and vb > 0 else 0.0
        out.append(vb * (P / b) ** k)
    out.append(vol[b][3] / (2.0 * (b - 1) / b) * 2.0 * (P - 1) / P if b > 1 else 0.0)
    return tuple(out) + (False,)


def extrapolate(vol, sc, ranks):
    rows = []
    t1 = None
    for P in ranks:
        S, e, v, a, measured = volume_at(vol, P)
        if P == 1:
            v = a = 0.0
        comp = sc["iota"] * e / sc["r_c"]
        local = e / sc["r_l"]
        link = v * (sc["beta_cpu"] + 1.0 / sc["bandwidth"]) + S * (P - 1) * sc["alpha_step"]
        ar = (a * (1.0 / sc["bandwidth"]) + 2 * S * (P - 1) * sc["alpha"]) if a > 0 else 0.0
        fixed = S * sc["step_overhead"]
        total = comp + local + link + ar + fixed
        t1 = t1 or total
        rows.append({"P": P, "measured": measured, "edges": e, "bytes": v, "compute": comp,
                     "local": local, "link": link, "allreduce": ar, "fixed": fixed, "total": total,
                     "speedup": t1 / total, "efficiency": t1 / total / P,
                     "comm_share": (link + ar) / total})
    return rows


def f3(x):
    return "%.3f" % x if abs(x) < 10 else "%.2f" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--volumes", action="append", default=[],
                    help="results folder of 1-epoch strong runs at larger P (bytes, edges)")
    ap.add_argument("--markdown", help="also write the tables to this file")
    ap.add_argument("--gpu-speed", type=float, default=100.0,
                    help="GPU rank / one CPU core, for compute and row work (assumption)")
    args = ap.parse_args()
    points = load_points(args.dir)
    m = Model(points)
    out = []
    w = out.append

    w("### Calibrated parameters\n")
    w("| parameter | value | calibrated on |")
    w("|---|---|---|")
    for t in sorted(m.r_c):
        w("| r_c(T=%d): compute, sampled edges per second and rank | %.3g | P = 1, T = %d |" % (t, m.r_c[t], t))
    for t in sorted(m.r_l):
        w("| r_l(T=%d): local row work (gather, sparse Adam), edges per second | %.3g | P = 1, T = %d |" % (t, m.r_l[t], t))
    w("| w: batch wait per step | %.2f ms | P = 1 |" % (m.w * 1e3))
    w("| o: dense optimizer step per step (0 without dense weights) | %.3f ms | P = 1 |" % (m.opt * 1e3))
    w("| t_0: epoch overhead | %.3f s | P = 1 |" % m.t0)
    sp = ", ".join("P = %d" % p["P"] for p in m.share_points)
    w("| u_spin: cores of sampling thread + MPI polling per rank, P <= C | %.2f | strong P = %s compute time |" % (
        m.u_spin, min((p["P"] for p in m.share_points if p["P"] <= m.cores), default="-")))
    w("| u_yield: the same, P > C (Open MPI yields when oversubscribed) | %.2f | strong P = %s compute time |" % (
        m.u_yield, min((p["P"] for p in m.share_points if p["P"] > m.cores), default="- (= u_spin)")))
    w("| beta: seconds per exchanged byte (1 / beta) | %.3g s/B (%.3f GB/s) | strong %s exchange time |" % (
        m.beta, (1.0 / m.beta / 1e9) if m.beta > 0 else float("inf"), sp))
    w("| alpha: seconds per step and peer | %.2f ms | strong %s exchange time |" % (m.alpha * 1e3, sp))
    lb = linkbench(args.dir)
    for P, f in sorted(lb.items()):
        w("| all-reduce benchmark, P = %d: latency per ring step / bus bandwidth | %.1f us / %.2f GB/s | allreduce_bench (others %s%% CPU before) |" % (
            P, f["alpha_s"] * 1e6, f["bandwidth_Bps"] / 1e9, f["others_busy_before_pct"]))
    w("")

    w("### Measured against predicted, every point\n")
    w("| mode | P | T | phi | calibrates | measured s | predicted s | error | compute meas / pred | exchange meas / pred | others' CPU during |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    order = {"strong": 0, "weak": 1, "threads": 2}
    errs = []
    for p in sorted(points, key=lambda p: (order[p["mode"]], p["P"], p["threads"])):
        q = m.parts(p)
        err = 100.0 * (q["total"] - p["steady_epoch_seconds"]) / p["steady_epoch_seconds"]
        role = m.role(p)
        if not role:  # a prediction
            errs.append(abs(err))
        w("| %s | %d | %d | %.2f | %s | %s | %s | %+.0f%% | %s / %s | %s / %s | %s%%%s |" % (
            p["mode"], p["P"], p["threads"], m.phi(p), role or "prediction",
            f3(p["steady_epoch_seconds"]), f3(q["total"]), err, f3(p["s_compute"]), f3(q["compute"]),
            f3(p["s_exchange"]), f3(q["exchange"]), p.get("others_busy_during_pct"),
            "" if p.get("quiet", True) else " (disturbed)"))
    for p in load_points(args.dir, other_series=True):
        q = m.parts(p)
        err = 100.0 * (q["total"] - p["steady_epoch_seconds"]) / p["steady_epoch_seconds"]
        errs.append(abs(err))
        w("| %s (%s) | %d | %d | %.2f | prediction | %s | %s | %+.0f%% | %s / %s | %s / %s | %s%%%s |" % (
            p["mode"], p.get("name"), p["P"], p["threads"], m.phi(p),
            f3(p["steady_epoch_seconds"]), f3(q["total"]), err, f3(p["s_compute"]), f3(q["compute"]),
            f3(p["s_exchange"]), f3(q["exchange"]), p.get("others_busy_during_pct"),
            "" if p.get("quiet", True) else " (disturbed)"))
    if errs:
        w("\nPredictions only (not used for calibration): mean |error| %.0f%%, max %.0f%%." % (
            sum(errs) / len(errs), max(errs)))
    w("")

    # --- extrapolation ---------------------------------------------------------------------
    vols = []
    for d in [args.dir] + args.volumes:
        vols += load_points(d)
    shm = lb.get(2, {}).get("bandwidth_Bps")
    beta_cpu = max(0.0, m.beta - (1.0 / shm if shm else 0.0))
    r_c1, r_l1 = interp(m.r_c, 1), interp(m.r_l, 1)
    g = args.gpu_speed
    net = 100e9 / 8 * 0.8  # 100 Gb/s at 80 %
    # Two link costs bracket the truth: "hi" keeps the CPU work per exchanged byte measured
    # here (beta_cpu), "lo" assumes packing is free and only the wire counts.
    cpu = dict(r_c=r_c1, r_l=r_l1, step_overhead=0.0, bandwidth=net, alpha=5e-6, alpha_step=4 * 5e-6)
    gpu = dict(r_c=g * r_c1, r_l=g * r_l1, step_overhead=1.5e-3, bandwidth=net, alpha=10e-6,
               alpha_step=4 * 10e-6)
    scenarios = [
        dict(cpu, key="CPU hi", beta_cpu=beta_cpu),
        dict(cpu, key="CPU lo", beta_cpu=0.0),
        dict(gpu, key="GPU hi", beta_cpu=beta_cpu / g),
        dict(gpu, key="GPU lo", beta_cpu=0.0),
    ]
    w("### Extrapolation\n")
    w("Assumptions. Every rank has its own cores or GPU (phi = 1, no sharing). Links: 100 Gb/s "
      "at 80%% = %.0f GB/s; four all-to-all-v per step (ids, rows, gradients, counts), one message "
      "per peer each: 5 us per message for CPU ranks (MPI over RDMA), 10 us for GPU ranks "
      "(NCCL, GPUDirect RDMA). CPU ranks: one core each at the rates measured at P = 1, T = 1. "
      "GPU ranks: %gx a core's rate for compute and row work, plus 1.5 ms per step of kernel "
      "launches and synchronisation. hi: the CPU work per exchanged byte measured here, "
      "beta_cpu = beta - 1/B_shm = %.3g s/B (B_shm = allreduce_bench's bus bandwidth at P = 2%s; "
      "divided by %g on a GPU); lo: beta_cpu = 0, only the wire. No overlap of the exchange with "
      "compute (the trainer runs them in turn). Slowest rank: the measured training-edge "
      "balance.\n" % (net / 1e9, g, beta_cpu, ", %.2f GB/s" % (shm / 1e9) if shm else ": not measured", g))
    for mode in ("strong", "weak"):
        vol = per_rank_volumes(vols, mode)
        if len(vol) < 2 or 1 not in vol:
            continue
        iota = max((p.get("train_edge_balance") or 1.0) for p in vols if p["mode"] == mode)
        ranks = sorted(set([1, 2, 4, 8, 16, 32] + list(vol)))
        w("#### %s scaling (per-rank volumes measured at P = %s; beyond, a power law through the last two)\n" % (
            mode, ",".join(str(k) for k in sorted(vol))))
        results = {}
        for sc in scenarios:
            rows = extrapolate(vol, dict(sc, iota=iota), ranks)
            for r in rows:
                if mode == "weak":  # the same epoch time is ideal
                    r["speedup"] = r["P"] * rows[0]["total"] / r["total"]
                    r["efficiency"] = rows[0]["total"] / r["total"]
            results[sc["key"]] = rows
        w("| P | volumes | edges/rank | MB/rank | " + " | ".join(
            "%s: epoch s (eff., link)" % sc["key"] for sc in scenarios) + " |")
        w("|---|---|---|---|" + "---|" * len(scenarios))
        for i, P in enumerate(ranks):
            r0 = results[scenarios[0]["key"]][i]
            w("| %d | %s | %.3g | %.0f | " % (P, "measured" if r0["measured"] else "extrap.",
                                              r0["edges"], r0["bytes"] / 1e6) +
              " | ".join("%s (%.2f, %.0f%%)" % (f3(results[sc["key"]][i]["total"]),
                                                results[sc["key"]][i]["efficiency"],
                                                100 * results[sc["key"]][i]["comm_share"])
                         for sc in scenarios) + " |")
        w("")
        for sc in scenarios:
            rows = results[sc["key"]]
            half = [r["P"] for r in rows if r["efficiency"] >= 0.5]
            over = [r["P"] for r in rows if r["comm_share"] > 0.5]
            if mode == "strong":
                best = min(rows, key=lambda r: r["total"])
                w("- %s: shortest epoch at P = %d (%s s, %.2fx P = 1); efficiency >= 0.5 up to P = %s; "
                  "link > half the epoch: %s." % (
                      sc["key"], best["P"], f3(best["total"]), best["speedup"],
                      max(half) if half else "-", "from P = %d" % min(over) if over else "none up to %d" % ranks[-1]))
            else:
                w("- %s: efficiency >= 0.5 up to P = %s; link > half the epoch: %s." % (
                    sc["key"], max(half) if half else "-", "from P = %d" % min(over) if over else "none up to %d" % ranks[-1]))
        w("")
        if 8 in ranks:
            w("P = 8 in detail (%s):\n" % mode)
            w("| scenario | compute s | row work + launches s | link s | epoch s | vs P = 1 |")
            w("|---|---|---|---|---|---|")
            for sc in scenarios:
                r = results[sc["key"]][ranks.index(8)]
                w("| %s | %s | %s | %s | %s | %.2fx |" % (
                    sc["key"], f3(r["compute"]), f3(r["local"] + r["fixed"]),
                    f3(r["link"] + r["allreduce"]), f3(r["total"]), r["speedup"]))
            w("")

    text = "\n".join(out)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    with open(os.path.join(args.dir, "model.json"), "w") as f:
        json.dump({"r_c": m.r_c, "r_l": m.r_l, "w": m.w, "t0": m.t0, "u_spin": m.u_spin,
                   "u_yield": m.u_yield, "beta": m.beta,
                   "alpha": m.alpha, "cores": m.cores}, f, indent=1)


if __name__ == "__main__":
    main()
