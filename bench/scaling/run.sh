#!/usr/bin/env bash
# Strong and weak scaling of distributed training (kgrec train PARTS/ under mpirun) on the
# synthetic graph: prepare -> partition -> mpirun -np P kgrec train, for each P.
# Collects every epoch's metrics line into results.jsonl (with the run's settings and the
# machine), then results.csv, summary.csv and PNG plots (bench/scaling/report.py + plot.gp).
# See docs/scaling.md. Run bench/scaling/run.sh --help for the options.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/scaling"

usage() {
  cat <<'EOF'
Usage: bench/scaling/run.sh [OPTIONS]

Runs end-to-end distributed training on the synthetic graph for each rank count P:
  kgrec prepare --synthetic --users U --items I --entities E -o data.h5
  kgrec partition data.h5 --parts P -o parts/
  mpirun -np P --oversubscribe --bind-to none kgrec --threads T train parts/ \
      --epochs N --eval-every 0 --metrics-out metrics.jsonl ...
strong scaling: one fixed graph for every P;
weak scaling:   users, items and entities (and, by default, the global batch) times P;
threads:        P = 1 on the strong graph with 1, 2, 4, ... cores threads (how LibTorch's
                threads scale on this machine: a calibration input of docs/scaling.md's model).

Options:
  --mode LIST         strong, weak, threads, or a list, e.g. strong,weak (default
                      strong,weak,threads; both = strong,weak)
  --ranks LIST        rank counts, e.g. 1,2,4 (default 1,2,4)
  --model M           lightgcn, sage, rgcn or kgat (default lightgcn)
  --epochs N          epochs per run (default 3); epoch 1 is reported apart, epochs 2..N
                      are the steady state
  --threads T         LibTorch threads per rank (default: max(1, cores / P) for each P)
  --users U --items I --entities E
                      strong-scaling graph (default 8000 / 4000 / 1000)
  --weak-users U --weak-items I --weak-entities E
                      weak-scaling graph per rank, times P (default 4000 / 2000 / 500)
  --batch-size B      global batch (default 2048)
  --weak-batch S      scale: weak runs use B * P (constant work per rank and step; default)
                      fixed: B for every P (steps per epoch grow with P)
  --dim D --layers L --fanouts F --features id|both
                      passed to kgrec train (defaults: the trainer's)
  --train-args "..."  more arguments for kgrec train
  --mpi-args "..."    more arguments for mpirun, e.g. "--mca mpi_yield_when_idle 1"
  --repeat R          run every point R times (default 1); the report takes the median
  --out DIR           results folder (default bench/scaling/results)
  --append            append to DIR/results.jsonl instead of starting it again
  --work DIR          datasets, partitions and logs (default: a temporary folder, removed)
  --keep-work         keep the work folder
  --wait-quiet PCT    before each run, wait while other processes keep more than PCT % of
                      the CPUs busy (measured over 3 s; default 25; 0: never wait)
  --wait-max S        give up waiting after S seconds and run anyway (default 900);
                      every result records the CPU use of others before, during and after
  --run-timeout S     kill a training run after S seconds (default 1800)
  --link-bench        also run build/bench/allreduce_bench (MPI all-reduce time by message
                      size) for every P > 1 into DIR/allreduce-pP.json: the latency and
                      bandwidth of the ranks' link, for docs/scaling.md's model (default: on
                      when that program exists; --no-link-bench: off)
  --report-only       only redraw results.csv, summary.csv and the plots from DIR
  --name NAME         a label stored in every result line (default: none)
  -h, --help          this text

Environment: KGREC (default build/launcher/kgrec; copied into the work folder first, so a
rebuild during the benchmark does not change the binary under test), ALLREDUCE_BENCH (default
build/bench/allreduce_bench, copied too), MPIRUN (default mpirun).
Needs python3 (standard library only) and gnuplot (gnuplot-nox) for the report.
EOF
}

MODE=strong,weak,threads
RANKS="1,2,4"
MODEL=lightgcn
EPOCHS=3
THREADS=""
USERS=8000 ITEMS=4000 ENTITIES=1000
WUSERS=4000 WITEMS=2000 WENTITIES=500
BATCH=2048
WEAK_BATCH=scale
DIM="" LAYERS="" FANOUTS="" FEATURES=""
TRAIN_ARGS=""
MPI_ARGS=""
REPEAT=1
OUT="$HERE/results"
APPEND=0
WORK=""
KEEP_WORK=0
WAIT_QUIET=25
WAIT_MAX=900
RUN_TIMEOUT=1800
REPORT_ONLY=0
LINK_BENCH=auto
NAME=""

need() { [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --mode) need "$@"; MODE=$2; shift 2 ;;
    --ranks) need "$@"; RANKS=$2; shift 2 ;;
    --model) need "$@"; MODEL=$2; shift 2 ;;
    --epochs) need "$@"; EPOCHS=$2; shift 2 ;;
    --threads) need "$@"; THREADS=$2; shift 2 ;;
    --users) need "$@"; USERS=$2; shift 2 ;;
    --items) need "$@"; ITEMS=$2; shift 2 ;;
    --entities) need "$@"; ENTITIES=$2; shift 2 ;;
    --weak-users) need "$@"; WUSERS=$2; shift 2 ;;
    --weak-items) need "$@"; WITEMS=$2; shift 2 ;;
    --weak-entities) need "$@"; WENTITIES=$2; shift 2 ;;
    --batch-size) need "$@"; BATCH=$2; shift 2 ;;
    --weak-batch) need "$@"; WEAK_BATCH=$2; shift 2 ;;
    --dim) need "$@"; DIM=$2; shift 2 ;;
    --layers) need "$@"; LAYERS=$2; shift 2 ;;
    --fanouts) need "$@"; FANOUTS=$2; shift 2 ;;
    --features) need "$@"; FEATURES=$2; shift 2 ;;
    --train-args) need "$@"; TRAIN_ARGS=$2; shift 2 ;;
    --mpi-args) need "$@"; MPI_ARGS=$2; shift 2 ;;
    --repeat) need "$@"; REPEAT=$2; shift 2 ;;
    --out) need "$@"; OUT=$2; shift 2 ;;
    --append) APPEND=1; shift ;;
    --work) need "$@"; WORK=$2; shift 2 ;;
    --keep-work) KEEP_WORK=1; shift ;;
    --wait-quiet) need "$@"; WAIT_QUIET=$2; shift 2 ;;
    --wait-max) need "$@"; WAIT_MAX=$2; shift 2 ;;
    --run-timeout) need "$@"; RUN_TIMEOUT=$2; shift 2 ;;
    --report-only) REPORT_ONLY=1; shift ;;
    --link-bench) LINK_BENCH=1; shift ;;
    --no-link-bench) LINK_BENCH=0; shift ;;
    --name) need "$@"; NAME=$2; shift 2 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

int() { [[ $2 =~ ^[0-9]+$ ]] || { echo "run.sh: $1 must be a non-negative integer, got '$2'" >&2; exit 2; }; }
[ "$MODE" != both ] || MODE=strong,weak
MODES=(${MODE//,/ })
for m in "${MODES[@]}"; do
  case "$m" in strong|weak|threads) ;; *) echo "run.sh: --mode takes strong, weak, threads (got $m)" >&2; exit 2 ;; esac
done
case "$MODEL" in lightgcn|sage|rgcn|kgat) ;; *) echo "run.sh: --model is lightgcn, sage, rgcn or kgat" >&2; exit 2 ;; esac
case "$WEAK_BATCH" in scale|fixed) ;; *) echo "run.sh: --weak-batch is scale or fixed" >&2; exit 2 ;; esac
case "$FEATURES" in ""|id|both) ;;
  lm) echo "run.sh: --features lm needs kgrec embed before partition; use id or both" >&2; exit 2 ;;
  *) echo "run.sh: --features is id or both" >&2; exit 2 ;; esac
for v in EPOCHS:epochs USERS:users ITEMS:items ENTITIES:entities WUSERS:weak-users \
         WITEMS:weak-items WENTITIES:weak-entities BATCH:batch-size REPEAT:repeat \
         WAIT_QUIET:wait-quiet WAIT_MAX:wait-max RUN_TIMEOUT:run-timeout; do
  var=${v%%:*}
  int "--${v#*:}" "${!var}"
done
[ -z "$THREADS" ] || int --threads "$THREADS"
[ "$EPOCHS" -ge 1 ] || { echo "run.sh: --epochs must be at least 1" >&2; exit 2; }
RANK_LIST=(${RANKS//,/ })
[ ${#RANK_LIST[@]} -gt 0 ] || { echo "run.sh: --ranks is empty" >&2; exit 2; }
for p in "${RANK_LIST[@]}"; do int --ranks "$p"; [ "$p" -ge 1 ] || { echo "run.sh: ranks must be >= 1" >&2; exit 2; }; done

command -v python3 > /dev/null || { echo "run.sh: needs python3 (apt-get install python3)" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

report() {
  python3 "$HERE/report.py" "$OUT"
}
if [ "$REPORT_ONLY" -eq 1 ]; then
  report
  exit 0
fi

KGREC_SRC=${KGREC:-$ROOT/build/launcher/kgrec}
MPIRUN=${MPIRUN:-mpirun}
[ -x "$KGREC_SRC" ] || { echo "run.sh: no kgrec binary at $KGREC_SRC (build first, or set KGREC)" >&2; exit 1; }
command -v "$MPIRUN" > /dev/null || { echo "run.sh: no $MPIRUN (apt-get install openmpi-bin)" >&2; exit 1; }
command -v gnuplot > /dev/null || echo "run.sh: no gnuplot (apt-get install gnuplot-nox): the plots will be skipped" >&2

if [ -z "$WORK" ]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/kgrec-scaling.XXXXXX")
  [ "$KEEP_WORK" -eq 1 ] || trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK/data" "$WORK/parts" "$WORK/runs"
WORK=$(cd "$WORK" && pwd)
KGREC="$WORK/kgrec"
cp "$KGREC_SRC" "$KGREC"
ARB_SRC=${ALLREDUCE_BENCH:-$ROOT/build/bench/allreduce_bench}
ARB=""
if [ "$LINK_BENCH" != 0 ]; then
  if [ -x "$ARB_SRC" ]; then
    ARB="$WORK/allreduce_bench"
    cp "$ARB_SRC" "$ARB"
  elif [ "$LINK_BENCH" = 1 ]; then
    echo "run.sh: no allreduce_bench at $ARB_SRC (build it, or set ALLREDUCE_BENCH)" >&2; exit 1
  fi
fi
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# --- the machine -----------------------------------------------------------------------------
CORES=$(nproc)
CPU_MODEL=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
[ -n "$CPU_MODEL" ] || CPU_MODEL=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs || true)
MEM_GIB=$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
HYPERVISOR=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -n1)
MPI_VERSION=$("$MPIRUN" --version 2>/dev/null | head -n1 || true)
GIT_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true || echo false)
KGREC_SHA=$(sha256sum "$KGREC" | cut -c1-16)
KGREC_MTIME=$(date -u -r "$KGREC_SRC" +%Y-%m-%dT%H:%M:%SZ)

# --- CPU use by others ---------------------------------------------------------------------
cpu_ticks() {  # prints "busy total" jiffies over all CPUs
  awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
busy_percent() {  # busy_percent SECONDS: % of all CPUs busy over that interval
  local a b
  a=($(cpu_ticks)); sleep "$1"; b=($(cpu_ticks))
  awk -v busy="$((b[0] - a[0]))" -v t="$((b[1] - a[1]))" 'BEGIN { printf "%.1f", (t > 0 ? 100 * busy / t : 0) }'
}
load1() { cut -d' ' -f1 /proc/loadavg; }
wait_quiet() {  # sets BUSY_BEFORE and WAITED
  local start=$SECONDS
  WAITED=0
  BUSY_BEFORE=$(busy_percent 3)
  [ "$WAIT_QUIET" -gt 0 ] || return 0
  while awk -v b="$BUSY_BEFORE" -v q="$WAIT_QUIET" 'BEGIN { exit !(b > q) }'; do
    if [ $((SECONDS - start)) -ge "$WAIT_MAX" ]; then
      echo "  others still use ${BUSY_BEFORE}% of the CPUs after ${WAIT_MAX}s: running anyway" >&2
      break
    fi
    echo "  others use ${BUSY_BEFORE}% of the CPUs (load $(load1)): waiting 30 s" >&2
    sleep 27
    BUSY_BEFORE=$(busy_percent 3)
  done
  WAITED=$((SECONDS - start))
}

# --- datasets and partitions (cached in the work folder) ------------------------------------
dataset() {  # dataset U I E -> path
  local f="$WORK/data/u$1-i$2-e$3.h5"
  if [ ! -f "$f" ]; then
    "$KGREC" prepare --synthetic --users "$1" --items "$2" --entities "$3" -o "$f" \
      > "$f.log" 2>&1 || { cat "$f.log" >&2; exit 1; }
  fi
  echo "$f"
}
partition() {  # partition DATA P -> folder
  local d
  d="$WORK/parts/$(basename "$1" .h5)-p$2"
  if [ ! -f "$d/manifest.json" ]; then
    "$KGREC" partition "$1" --parts "$2" -o "$d" --force > "$d.log" 2>&1 || { cat "$d.log" >&2; exit 1; }
  fi
  echo "$d"
}

RESULTS="$OUT/results.jsonl"
[ "$APPEND" -eq 1 ] || : > "$RESULTS"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "kgrec scaling: $CPU_MODEL, $CORES cores, $MEM_GIB GiB; kgrec $GIT_COMMIT (sha256 $KGREC_SHA); results in $OUT" >&2
echo "uptime before: $(uptime)" | tee -a "$OUT/uptime.log" >&2

run_point() {  # run_point MODE P REP [THREADS]
  local mode=$1 p=$2 rep=$3 u i e b t data parts tag log metrics status timing
  if [ "$mode" != weak ]; then
    u=$USERS i=$ITEMS e=$ENTITIES b=$BATCH
  else
    u=$((WUSERS * p)) i=$((WITEMS * p)) e=$((WENTITIES * p)) b=$BATCH
    [ "$WEAK_BATCH" = fixed ] || b=$((BATCH * p))
  fi
  t=${4:-${THREADS:-$((CORES / p))}}
  [ "$t" -ge 1 ] || t=1
  data=$(dataset "$u" "$i" "$e")
  parts=$(partition "$data" "$p")
  tag="$mode-p$p-t$t-r$rep"
  log="$WORK/runs/$tag.log"
  metrics="$WORK/runs/$tag.jsonl"
  rm -f "$metrics"
  # Sampled propagation, the mode this benchmark and its cost model describe.
  local args=(train "$parts" --model "$MODEL" --propagation sampled --epochs "$EPOCHS"
              --eval-every 0 --batch-size "$b" --metrics-out "$metrics")
  [ -z "$DIM" ] || args+=(--dim "$DIM")
  [ -z "$LAYERS" ] || args+=(--layers "$LAYERS")
  [ -z "$FANOUTS" ] || args+=(--fanouts "$FANOUTS")
  [ -z "$FEATURES" ] || args+=(--features "$FEATURES")
  # shellcheck disable=SC2206
  [ -z "$TRAIN_ARGS" ] || args+=($TRAIN_ARGS)

  wait_quiet
  local load_before ticks_a ticks_b
  load_before=$(load1)
  echo "[$tag] P=$p threads=$t graph ${u}u/${i}i/${e}e batch $b (others ${BUSY_BEFORE}% CPU, load $load_before)" >&2
  ticks_a=($(cpu_ticks))
  local TIMEFORMAT='%R %U %S'
  status=0
  { time timeout --signal=TERM --kill-after=30 "$RUN_TIMEOUT" \
      "$MPIRUN" -np "$p" --oversubscribe --bind-to none $MPI_ARGS "$KGREC" --threads "$t" "${args[@]}" \
      > "$log" 2>&1 ; } 2> "$log.time" || status=$?
  ticks_b=($(cpu_ticks))
  timing=$(tail -n1 "$log.time")
  if [ "$status" -ne 0 ] || [ ! -s "$metrics" ]; then
    echo "[$tag] failed (exit $status); the end of its log:" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  local load_after busy_after
  load_after=$(load1)
  busy_after=$(busy_percent 2)
  # CPU time of the job (mpirun and the ranks it waited for) against all CPU time spent on
  # the machine meanwhile: the rest is other processes.
  local jiffy
  jiffy=$(getconf CLK_TCK)
  python3 "$HERE/collect.py" "$metrics" "$parts/manifest.json" >> "$RESULTS" <<EOF
{"bench": "kgrec_scaling", "name": "$NAME", "started": "$STARTED",
 "mode": "$mode", "P": $p, "repeat": $rep, "threads": $t, "cores": $CORES,
 "oversubscribed": $([ $((p * t)) -gt "$CORES" ] && echo true || echo false),
 "users": $u, "items": $i, "entities": $e, "batch_size": $b, "model": "$MODEL",
 "epochs": $EPOCHS, "dim": "${DIM:-default}", "layers": "${LAYERS:-default}",
 "fanouts": "${FANOUTS:-default}", "features": "${FEATURES:-id}", "train_args": "$TRAIN_ARGS", "mpi_args": "$MPI_ARGS",
 "cpu_model": "$CPU_MODEL", "nproc": $CORES, "mem_gib": $MEM_GIB, "hypervisor": "$HYPERVISOR",
 "mpi": "$MPI_VERSION", "omp_wait_policy": "${OMP_WAIT_POLICY:-}", "git": "$GIT_COMMIT", "git_dirty": $GIT_DIRTY,
 "kgrec_sha256": "$KGREC_SHA", "kgrec_built": "$KGREC_MTIME",
 "wall_seconds": $(echo "$timing" | cut -d' ' -f1),
 "job_cpu_seconds": $(echo "$timing" | awk '{ print $2 + $3 }'),
 "machine_cpu_seconds": $(awk -v d="$((ticks_b[0] - ticks_a[0]))" -v j="$jiffy" 'BEGIN { printf "%.2f", d / j }'),
 "others_busy_before_pct": $BUSY_BEFORE, "others_busy_after_pct": $busy_after,
 "waited_seconds": $WAITED, "load_before": $load_before, "load_after": $load_after}
EOF
  echo "[$tag] done: $(python3 -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; print(", ".join("e%d %.2fs" % (r["epoch"], r["epoch_seconds"]) for r in l))' "$metrics"); others during the run: $(tail -n1 "$RESULTS" | python3 -c 'import json,sys; print("%.0f%%" % json.loads(sys.stdin.read())["others_busy_during_pct"])')" >&2
}

failed=0
for mode in strong weak threads; do
  [[ " ${MODES[*]} " == *" $mode "* ]] || continue
  for rep in $(seq 1 "$REPEAT"); do
    if [ "$mode" = threads ]; then
      t=1
      while [ "$t" -le "$CORES" ]; do
        run_point threads 1 "$rep" "$t" || failed=$((failed + 1))
        t=$((t * 2))
      done
      continue
    fi
    for p in "${RANK_LIST[@]}"; do
      run_point "$mode" "$p" "$rep" || failed=$((failed + 1))
    done
  done
done
if [ -n "$ARB" ]; then
  for p in "${RANK_LIST[@]}"; do
    [ "$p" -gt 1 ] || continue
    wait_quiet
    echo "[allreduce_bench] P=$p (others ${BUSY_BEFORE}% CPU, load $(load1))" >&2
    if "$MPIRUN" -np "$p" --oversubscribe --bind-to none "$ARB" --benchmark_filter='^AllReduce/' \
         --benchmark_format=json > "$WORK/allreduce-p$p.json" 2> "$WORK/allreduce-p$p.log"; then
      python3 - "$WORK/allreduce-p$p.json" "$BUSY_BEFORE" "$(load1)" > "$OUT/allreduce-p$p.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["others_busy_before_pct"] = float(sys.argv[2])
d["load_after"] = float(sys.argv[3])
json.dump(d, sys.stdout, indent=1)
PY
    else
      echo "[allreduce_bench] P=$p failed:" >&2
      tail -n 5 "$WORK/allreduce-p$p.log" >&2
    fi
  done
fi
echo "uptime after: $(uptime)" | tee -a "$OUT/uptime.log" >&2
report || echo "run.sh: the report failed" >&2
[ "$KEEP_WORK" -eq 0 ] || echo "work folder kept: $WORK" >&2
[ "$failed" -eq 0 ] || { echo "run.sh: $failed run(s) failed" >&2; exit 1; }
