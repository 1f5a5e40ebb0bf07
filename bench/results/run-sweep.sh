#!/bin/sh
# The recipe sweep behind bench/results/README.md, one run at a time at the lowest priority:
# PyTorch twin of the recipe at a fixed 200 steps of 128 (one factor at a time from the bench's
# recipe), evaluation on seeded subsets (10k train / 2k test). Appends JSON lines to $OUT.
cd "$(dirname "$0")/../.." || exit 1
OUT=${OUT:-bench/results/torch-sweep-200.jsonl}
STEPS=${STEPS:-200}
SKIP=${SKIP:-}
run() {
  label=$1; shift
  case " $SKIP " in *" $label "*) return ;; esac
  echo "$(date +%T) $label load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  nice -n 19 /usr/bin/python3 bench/torch-fmnist-reference.py --steps "$STEPS" --skip-random-init --eval-train 10000 --eval-test 2000 --label "$label" "$@" 2>/dev/null >> "$OUT"
}
# (base and tau-0.2 ran first; the list was then cut to fit the session — see README.md)
run base
run tau-0.2 --temperature 0.2
run lr-3e-3 --lr 3e-3
run crop-0.08 --crop-min 0.08
run simsiam --method simsiam
run color-1.0 --color-strength 1.0
run tau-0.1 --temperature 0.1
run blur --blur
run head-3-layers --head-layers 3
run size-16-then-28 --size-schedule 16@0.5
run batch-256-half-steps --batch 256 --steps $((STEPS / 2))
run no-jitter --jitter-p 0
run sgd-0.3 --optimizer sgd --lr 0.3
