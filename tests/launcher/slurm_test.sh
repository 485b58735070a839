#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup and the check helpers are called through trap and check
# End-to-end check of launcher/slurm/ on a private, single-node Slurm started by this test:
# writes its own slurm.conf in a temporary folder (auth/none, one node declaring 4 CPUs, PMIx),
# starts slurmctld and slurmd, submits pipeline.sh (prepare -> embed -> partition -> train ->
# eval, 2 ranks) on a small synthetic graph, waits for the jobs and checks their states, the
# metrics file and the logs; then checks that a failing step cancels the steps after it, runs
# train.sbatch once more under mpirun, and once with more tasks than partitions, and checks that
# a refused submission takes back the queued jobs. Everything it starts is stopped and
# everything it writes is under its temporary folder, which it removes.
#
# Usage: slurm_test.sh KGREC_BINARY
# Exit: 0 passed, 1 a check failed, 77 skipped (Slurm not installed, not root, or the daemons
# do not start).
set -euo pipefail
# shellcheck source=../checks.sh
source "$(cd "$(dirname "$0")/.." && pwd)/checks.sh"

[ $# -eq 1 ] || { echo "usage: $0 KGREC_BINARY" >&2; exit 2; }
KGREC=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SLURM_DIR=$(cd "$(dirname "$0")/../../launcher/slurm" && pwd)
[ -x "$KGREC" ] || { echo "slurm test: $KGREC is not an executable" >&2; exit 2; }

skip() { echo "slurm test: SKIPPED: $*"; exit 77; }
for c in slurmctld slurmd sbatch squeue sinfo scontrol scancel srun; do
  command -v "$c" > /dev/null 2>&1 || skip "$c not found (install Debian's slurm-wlm: scripts/setup.sh does)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start jobs (this test runs its own Slurm)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kgrec-slurm-test.XXXXXX")
# Everything below (daemons, jobs, MPI session folders) uses WORK, marked by this variable.
export KGREC_SLURM_TEST=$WORK
export TMPDIR=$WORK/tmp
export SLURM_CONF=$WORK/slurm.conf
mkdir -p "$TMPDIR" "$WORK/state" "$WORK/spool" "$WORK/tmpfs"
daemons=()

cleanup() {
  local rc=$? pid p
  trap - EXIT INT TERM
  if [ ${#daemons[@]} -gt 0 ]; then
    # Cancel every job of this private cluster, wait for them to end, then stop the daemons.
    if kill -0 "${daemons[0]}" 2> /dev/null; then
      # shellcheck disable=SC2046  # one argument per job id
      scancel --quiet $(timeout 10 squeue -h -o %i 2> /dev/null) 2> /dev/null || true
      for _ in $(seq 30); do [ -z "$(timeout 5 squeue -h 2> /dev/null)" ] && break; sleep 0.5; done
    fi
    for pid in "${daemons[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
    for pid in "${daemons[@]}"; do
      for _ in $(seq 40); do kill -0 "$pid" 2> /dev/null || break; sleep 0.25; done
      kill -KILL "$pid" 2> /dev/null || true
      wait "$pid" 2> /dev/null || true
    done
    # Left-over job processes (slurmstepd, ranks) carry KGREC_SLURM_TEST=WORK in their environment.
    for p in /proc/[0-9]*; do
      pid=${p#/proc/}
      [ "$pid" != $$ ] || continue
      tr '\0' '\n' 2> /dev/null < "$p/environ" | grep -qxF "KGREC_SLURM_TEST=$WORK" || continue
      echo "slurm test: stopping left-over process $pid ($(tr '\0' ' ' 2> /dev/null < "$p/cmdline"))"
      kill -KILL "$pid" 2> /dev/null || true
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free TCP ports on loopback for slurmctld and slurmd.
port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }
for _ in $(seq 50); do
  ctld_port=$((20000 + RANDOM % 30000))
  port_free "$ctld_port" && port_free $((ctld_port + 1)) && break
done
node=$(hostname -s)
cat > "$SLURM_CONF" << EOF
ClusterName=kgrectest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
TmpFS=$WORK/tmpfs
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -f "$SLURM_CONF" > "$WORK/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" > "$WORK/slurmd.out" 2>&1 &
daemons+=($!)
# The node turns idle about 1 s after the start; give up after 30 s or when a daemon exits.
state=
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
  if ! kill -0 "${daemons[0]}" 2> /dev/null || ! kill -0 "${daemons[1]}" 2> /dev/null; then break; fi
  state=$(timeout 5 sinfo -h -n "$node" -o %T 2> /dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.5
done
if [ "$state" != idle ]; then
  tail -n 5 "$WORK"/slurmctld.out "$WORK"/slurmd.out "$WORK"/slurm*.log 2> /dev/null || true
  skip "the private slurmctld/slurmd did not bring node $node to idle (state '${state:-none}'); their output is above"
fi
echo "slurm test: private Slurm up (node $node, ports $ctld_port-$((ctld_port + 1)), in $WORK)"

has() { [[ "$1" == *"$2"* ]]; }
wait_jobs() {  # wait_jobs SECONDS ID...: polls squeue until none of the jobs is left
  local limit=$1 ids
  shift
  ids=$(IFS=,; echo "$*")
  local end=$((SECONDS + limit))
  while [ -n "$(squeue -h -j "$ids" 2> /dev/null)" ]; do
    [ "$SECONDS" -lt "$end" ] || { echo "slurm test: jobs $ids still queued after $limit s:"; squeue -j "$ids"; return 1; }
    sleep 1
  done
}
job_field() { scontrol show job "$1" -o 2> /dev/null | grep -oE "(^| )$2=[^ ]*" | cut -d= -f2; }
job_ok() { [ "$(job_field "$1" JobState)" = COMPLETED ] && [ "$(job_field "$1" ExitCode)" = 0:0 ]; }
step_id() { awk -v s="$2" '$1 == s { print $2 }' "$1/jobs.tsv"; }
show_logs() { for f in "$1"/logs/*.out; do echo "--- $f"; tail -n 15 "$f"; done; }
json_lines_with() {  # json_lines_with FILE KEY: every line is a JSON object, one has KEY as a number
  local file=$1 key=$2
  [ -s "$file" ] || return 1
  if command -v jq > /dev/null 2>&1; then
    jq -e -s --arg k "$key" 'all(type == "object") and any(.[]; (.[$k] | type) == "number")' "$file" > /dev/null
  elif command -v python3 > /dev/null 2>&1; then
    python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(not (all(isinstance(r, dict) for r in rows) and any(isinstance(r.get(sys.argv[2]), (int, float)) for r in rows)))' "$file" "$key"
  else  # no JSON tool: each line looks like an object, and one has the key with a number
    ! grep -qv '^{.*}$' "$file" && grep -qE "\"$key\":[-+0-9.eE]+" "$file"
  fi
}

cd "$WORK"
# A seeded test encoder and its vocabulary for the embed step (kgrec demo writes both).
"$KGREC" --threads 1 demo --out encoder --users 300 --items 150 --epochs 1 > demo.log 2>&1 ||
  { cat demo.log; echo "slurm test: kgrec demo failed"; exit 1; }

# 1. The whole pipeline, 2 ranks.
start=$SECONDS
"$SLURM_DIR/pipeline.sh" --run run --kgrec "$KGREC" --parts 2 --epochs 2 \
  --encoder encoder/seeded-test-encoder.pt --vocab encoder/synthetic-vocab.txt \
  -- --synthetic --users 300 --items 150 --entities 40 --seed 3
check "pipeline submits 5 jobs" test "$(wc -l < run/jobs.tsv)" -eq 5
mapfile -t ids < <(cut -f2 run/jobs.tsv)
# Slurm clears a dependency once it is met, so this looks while the eval job still waits.
check "eval job waits for the train job" has "$(job_field "$(step_id run eval)" Dependency)" "afterok:$(step_id run train)"
check "pipeline jobs finish" wait_jobs 300 "${ids[@]}"
echo "slurm test: pipeline took $((SECONDS - start)) s"
for step in prepare embed partition train eval; do
  id=$(step_id run "$step")
  check "$step job $id completed with exit code 0 ($(job_field "$id" JobState) $(job_field "$id" ExitCode))" job_ok "$id"
done
check "embed wrote /features/lm" contains run/logs/kgrec-embed-"$(step_id run embed)".out "seeded test encoder"
check "partition wrote 2 shards" test -s run/parts/manifest.json -a -s run/parts/part-0.h5 -a -s run/parts/part-1.h5
check "checkpoint written" test -s run/ckpt/checkpoint.json
check "metrics are JSON lines with recall@20" json_lines_with run/ckpt/metrics.jsonl recall@20
check "metrics have ndcg@20" json_lines_with run/ckpt/metrics.jsonl ndcg@20
check "metrics have epochs" json_lines_with run/ckpt/metrics.jsonl epoch
train_log=run/logs/kgrec-train-$(step_id run train).out
check "train job ran 2 ranks under srun" contains "$train_log" "srun --mpi=pmix --ntasks=2"
check "train job output labelled by rank" contains "$train_log" "^0: "
check "train job wrote a log per rank" test -s run/ckpt/logs/rank-0.log -a -f run/ckpt/logs/rank-1.log
check "eval printed recall@20" contains run/logs/kgrec-eval-"$(step_id run eval)".out "recall@20"
[ "$failures" -eq 0 ] || show_logs run

# 2. A failing step cancels the steps after it.
"$SLURM_DIR/pipeline.sh" --run failing --kgrec "$KGREC" --parts 2 -- --synthetic --users 300 --cold-items 1.5
mapfile -t ids < <(cut -f2 failing/jobs.tsv)
check "failing pipeline's jobs leave the queue" wait_jobs 120 "${ids[@]}"
check "bad prepare job failed" test "$(job_field "$(step_id failing prepare)" JobState)" = FAILED
for step in partition train eval; do
  check "$step after a failed step cancelled" test "$(job_field "$(step_id failing "$step")" JobState)" = CANCELLED
done

# 3. train.sbatch on its own, under Open MPI's mpirun inside the allocation.
if command -v mpirun > /dev/null 2>&1; then
  id=$(KGREC=$KGREC KGREC_LAUNCHER=mpirun OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
       PARTS=$WORK/run/parts OUT=$WORK/ckpt-mpirun EPOCHS=1 \
       sbatch --parsable --ntasks=2 --output="$WORK/train-mpirun.out" "$SLURM_DIR/train.sbatch")
  check "mpirun train job finishes" wait_jobs 120 "$id"
  check "mpirun train job completed ($(job_field "$id" JobState) $(job_field "$id" ExitCode))" job_ok "$id"
  check "mpirun train job used mpirun" contains train-mpirun.out "kgrec-train: mpirun -np"
  check "mpirun train metrics" json_lines_with ckpt-mpirun/metrics.jsonl recall@20
  job_ok "$id" || tail -n 20 train-mpirun.out
else
  echo "slurm test: mpirun not found: the mpirun launcher is not checked"
fi

# 4. train.sbatch refuses a task count that differs from the partition count.
id=$(KGREC=$KGREC PARTS=$WORK/run/parts OUT=$WORK/ckpt-bad \
     sbatch --parsable --ntasks=3 --output="$WORK/train-bad.out" "$SLURM_DIR/train.sbatch")
check "train job with 3 tasks finishes" wait_jobs 60 "$id"
check "3 tasks for 2 partitions refused" test "$(job_field "$id" JobState)" = FAILED
check "refusal names --ntasks=2" contains train-bad.out "sbatch --ntasks=2"

# 5. A job that sbatch refuses (GPUs on a node without any) takes back the jobs queued before it.
rc=0
"$SLURM_DIR/pipeline.sh" --run refused --kgrec "$KGREC" --parts 2 --gpus-per-node 1 \
  -- --synthetic --users 300 > refused.out 2>&1 || rc=$?
sed 's/^/  | /' refused.out
check "refused submission fails" test "$rc" -ne 0
check "refusal names the train job" contains refused.out "sbatch refused the train job"
check "jobs before the refused one cancelled" test "$(job_field "$(step_id refused partition)" JobState)" = CANCELLED

# 6. A rank killed with SIGKILL mid-run ends the whole job within seconds, naming the task,
#    and leaves no process behind (srun --kill-on-bad-exit).
id=$(KGREC=$KGREC PARTS=$WORK/run/parts OUT=$WORK/ckpt-kill EPOCHS=100000 \
     EXTRA_ARGS="--batch-size 16 --eval-every 0" \
     sbatch --parsable --ntasks=2 --output="$WORK/train-kill.out" "$SLURM_DIR/train.sbatch")
victim=
for _ in $(seq 600); do
  if [ -s "$WORK/ckpt-kill/metrics.jsonl" ] || grep -q "training" "$WORK/train-kill.out" 2> /dev/null; then
    for pid in $(pgrep -f "train $WORK/run/parts --ckpt $WORK/ckpt-kill"); do
      if tr '\0' '\n' < "/proc/$pid/environ" 2> /dev/null | grep -qx "SLURM_PROCID=1"; then victim=$pid; fi
    done
    [ -n "$victim" ] && break
  fi
  sleep 0.2
done
check "found task 1's process" test -n "$victim"
killed_at=$SECONDS
[ -n "$victim" ] && kill -9 "$victim"
check "job with a killed rank leaves the queue" wait_jobs 60 "$id"
elapsed=$((SECONDS - killed_at))
echo "slurm test: job ended ${elapsed} s after the kill ($(job_field "$id" JobState) $(job_field "$id" ExitCode))"
check "killed rank: within 20 s (10 s grace to agree on a checkpoint)" test "$elapsed" -le 20
check "killed rank: job failed" test "$(job_field "$id" JobState)" = FAILED
check "killed rank: the task is named" contains train-kill.out "task 1"
sleep 1
check "killed rank: no process left" test -z "$(pgrep -f "train $WORK/run/parts --ckpt $WORK/ckpt-kill")"

echo "slurm checks: $passes passed, $failures failed"
exit $((failures > 0))
