#!/bin/sh
# Round 2 of the recipe sweep (after run-sweep.sh): the round-1 winners combined, and repeats
# with another seed to see the noise. Same protocol as run-sweep.sh.
cd "$(dirname "$0")/../.." || exit 1
OUT=${OUT:-bench/results/torch-sweep-200.jsonl}
run() {
  label=$1; shift
  echo "$(date +%T) $label load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  nice -n 19 /usr/bin/python3 bench/torch-fmnist-reference.py --steps 200 --skip-random-init --eval-train 10000 --eval-test 2000 --label "$label" "$@" 2>/dev/null >> "$OUT"
}
run tau-0.1+color-1.0+blur --temperature 0.1 --color-strength 1.0 --blur
run tau-0.2+color-1.0+blur --temperature 0.2 --color-strength 1.0 --blur
run tau-0.1+color-1.0 --temperature 0.1 --color-strength 1.0
run sgd-0.3+tau-0.1 --optimizer sgd --lr 0.3 --temperature 0.1
run no-jitter --jitter-p 0
run base-seed-2 --seed 2
run tau-0.1-seed-2 --temperature 0.1 --seed 2
