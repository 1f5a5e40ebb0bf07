#!/bin/sh
# Looktwice's own trainer (bench:fmnist, wasm, 1 thread) at a fixed 300 steps of 128 — about what
# 15 minutes give on this 2-core machine idle — at the lowest priority, one run at a time,
# evaluated on seeded subsets (10k train / 2k test). usage: run-tfjs.sh LABEL [bench:fmnist flags]
cd "$(dirname "$0")/../.." || exit 1
label=$1; shift
echo "$(date +%T) tfjs $label load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
nice -n 19 node bin/run-ts.mjs bench/fmnist.bench.ts --steps 300 --threads 1 --eval-train 10000 --eval-test 2000 --torch skip \
  --label "$label" --record bench/results/fmnist-tfjs-300.jsonl --out ".looktwice-tmp/fmnist-embeddings/$label" "$@" > /dev/null 2>> ".looktwice-tmp/tfjs-$label.log"
