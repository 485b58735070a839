#!/usr/bin/env bash
# Submits the kgrec pipeline as a chain of Slurm jobs (docs/slurm.md):
#
#   prepare -> embed -> partition -> train -> eval
#
# Each job starts only when the one before it succeeded (--dependency=afterok); when a job
# fails, the jobs after it are cancelled (--kill-on-invalid-dep=yes).
#
# Usage: launcher/slurm/pipeline.sh [OPTIONS] [-- PREPARE_ARGS...]
#
#   --run DIR          run folder, created; everything is written inside   (kgrec-run)
#   --parts P          partitions = training ranks                        (2)
#   --data FILE        train on this existing dataset: no prepare job
#   --encoder FILE     TorchScript text encoder for the embed job; with --vocab (no embed job
#   --vocab FILE       without them). embed adds /features/lm to the dataset in place.
#   --model M          lightgcn | sage                                    (lightgcn)
#   --epochs N         training epochs                                    (kgrec's default)
#   --threads T        CPUs (compute threads) per job and per rank        (1)
#   --gpus-per-node G  0: CPU training; G > 0: G ranks and G GPUs per node (0)
#   --train-args ARGS  more `kgrec train` options (EXTRA_ARGS of train.sbatch)
#   --sbatch-args ARGS more sbatch options for every job, e.g. "--partition=gpu --account=x"
#   --kgrec PATH       kgrec binary                                       ($KGREC, else kgrec on PATH)
#   -h, --help         this text
#
# PREPARE_ARGS go to `kgrec prepare` (-o RUN/data.h5 is added), e.g.
#   pipeline.sh --run run1 --parts 4 -- --synthetic --users 100000 --items 50000
#   pipeline.sh --run run2 --parts 2 -- --format lightgcn --train train.txt --test test.txt
#
# Run folder: data.h5, parts/ (shards), ckpt/ (checkpoint, metrics.jsonl, logs/ per rank),
# logs/kgrec-<step>-<jobid>.out (each job's output) and jobs.tsv (step and job id per line).
# KGREC_LAUNCHER and CPU_BIND pass through to train.sbatch. Prints the job ids; follow them with
# `squeue -j ID,...`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "kgrec pipeline: error: $*" >&2; exit 2; }

RUN=kgrec-run
NPARTS=2
DATA=
ENCODER=
VOCAB=
MODEL=lightgcn
EPOCHS=
THREADS=1
GPUS_PER_NODE=0
EXTRA_ARGS=
SBATCH_ARGS=
KGREC=${KGREC:-kgrec}
prepare_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --) shift; prepare_args=("$@"); break ;;
    --run | --parts | --data | --encoder | --vocab | --model | --epochs | --threads | \
      --gpus-per-node | --train-args | --sbatch-args | --kgrec)
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --run) RUN=$2 ;;
        --parts) NPARTS=$2 ;;
        --data) DATA=$2 ;;
        --encoder) ENCODER=$2 ;;
        --vocab) VOCAB=$2 ;;
        --model) MODEL=$2 ;;
        --epochs) EPOCHS=$2 ;;
        --threads) THREADS=$2 ;;
        --gpus-per-node) GPUS_PER_NODE=$2 ;;
        --train-args) EXTRA_ARGS=$2 ;;
        --sbatch-args) SBATCH_ARGS=$2 ;;
        --kgrec) KGREC=$2 ;;
      esac
      shift 2 ;;
    *) die "unknown option '$1' (see --help; kgrec prepare options go after --)" ;;
  esac
done

whole() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 must be a whole number, not '$2'"; }
whole --parts "$NPARTS"
whole --threads "$THREADS"
whole --gpus-per-node "$GPUS_PER_NODE"
[ -z "$EPOCHS" ] || whole --epochs "$EPOCHS"
[ "$NPARTS" -ge 1 ] || die "--parts must be at least 1"
[ "$THREADS" -ge 1 ] || die "--threads must be at least 1"
[ -n "$DATA" ] || [ ${#prepare_args[@]} -gt 0 ] ||
  die "give either --data FILE or kgrec prepare arguments after -- (see --help)"
[ -z "$DATA" ] || [ ${#prepare_args[@]} -eq 0 ] || die "--data and prepare arguments exclude each other"
[ -z "$DATA" ] || [ -f "$DATA" ] || die "dataset $DATA not found"
[ -z "$ENCODER$VOCAB" ] || { [ -f "$ENCODER" ] && [ -f "$VOCAB" ]; } ||
  die "the embed job needs both --encoder and --vocab, as existing files"
command -v sbatch > /dev/null 2>&1 || die "sbatch not found: is Slurm's client installed and on PATH?"
command -v "$KGREC" > /dev/null 2>&1 || die "kgrec binary '$KGREC' not found (use --kgrec PATH or KGREC=)"
# Jobs may run elsewhere than here: give them absolute paths.
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
case "$KGREC" in */*) KGREC=$(abs "$KGREC") ;; esac
mkdir -p "$RUN/logs"
RUN=$(cd "$RUN" && pwd)
[ -z "$DATA" ] || DATA=$(abs "$DATA")
[ -n "$DATA" ] || DATA=$RUN/data.h5
PARTS=$RUN/parts
OUT=$RUN/ckpt
[ -z "$ENCODER" ] || { ENCODER=$(abs "$ENCODER"); VOCAB=$(abs "$VOCAB"); }
read -r -a sbatch_extra <<< "$SBATCH_ARGS"
# The jobs read their settings from the environment (sbatch exports it by default).
export KGREC DATA NPARTS PARTS OUT MODEL EPOCHS GPUS_PER_NODE EXTRA_ARGS

: > "$RUN/jobs.tsv"
job_ids=()
prev=
submit() {  # submit STEP SBATCH_OPTIONS... SCRIPT [ARGS...]: chains after the previous job
  local step=$1 id
  shift
  local opts=(--parsable --job-name="kgrec-$step" --output="$RUN/logs/%x-%j.out"
              --kill-on-invalid-dep=yes "${sbatch_extra[@]}")
  [ -z "$prev" ] || opts+=(--dependency="afterok:$prev")
  if ! id=$(sbatch "${opts[@]}" "$@"); then
    # Half a pipeline is of no use: take back the jobs already queued.
    [ ${#job_ids[@]} -eq 0 ] || scancel "${job_ids[@]}" || true
    die "sbatch refused the $step job${job_ids[*]:+; cancelled jobs ${job_ids[*]}}"
  fi
  id=${id%%;*}  # --parsable prints "id" or "id;cluster"
  printf '%s\t%s\n' "$step" "$id" >> "$RUN/jobs.tsv"
  echo "kgrec pipeline: $step: job $id"
  job_ids+=("$id")
  prev=$id
}

single=(--ntasks=1 --cpus-per-task="$THREADS")
[ ${#prepare_args[@]} -eq 0 ] || submit prepare "${single[@]}" "$here/step.sbatch" prepare "${prepare_args[@]}" -o "$DATA"
[ -z "$ENCODER" ] || submit embed "${single[@]}" "$here/step.sbatch" embed "$DATA" --encoder "$ENCODER" --vocab "$VOCAB"
submit partition "${single[@]}" "$here/partition.sbatch"
ranks=(--ntasks="$NPARTS" --cpus-per-task="$THREADS")
if [ "$GPUS_PER_NODE" -gt 0 ]; then
  ranks+=(--nodes=$(((NPARTS + GPUS_PER_NODE - 1) / GPUS_PER_NODE)) --ntasks-per-node="$GPUS_PER_NODE"
          --gpus-per-node="$GPUS_PER_NODE")
fi
submit train "${ranks[@]}" "$here/train.sbatch"
submit eval "${single[@]}" "$here/step.sbatch" eval "$OUT"

echo "kgrec pipeline: ${#job_ids[@]} jobs in $RUN (jobs.tsv, logs/); follow them with: squeue -j $(IFS=,; echo "${job_ids[*]}")"
