"""Markdown tables of the JSON lines in bench/results (the recipe sweep, the Looktwice runs and the
gauge-against-probe checkpoints), for bench/results/README.md.
usage: python3 bench/results/tables.py"""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))


def lines(name):
    path = os.path.join(here, name)
    return [json.loads(line) for line in open(path) if line.strip()] if os.path.exists(path) else []


def pct(x):
    return "—" if x is None else f"{100 * x:.1f} %"


sweep = lines("torch-sweep-200.jsonl")
if sweep:
    base = next((r for r in sweep if r.get("label") == "base"), None)
    print("| recipe (PyTorch twin, 200 steps) | probe_all | probe_10 | knn200 | Δ mean vs base | img/s | load |")
    print("|---|---|---|---|---|---|---|")
    for r in sweep:
        delta = "" if base is None or r.get("label") == "raw-pixels" else f"{100 * sum(r[k] - base[k] for k in ('probe_all', 'probe_10_per_class', 'knn200')) / 3:+.1f}"
        print(f"| {r.get('label')} | {pct(r['probe_all'])} | {pct(r['probe_10_per_class'])} | {pct(r['knn200'])} | {delta} | {r.get('train_images_per_s', '—')} | {r.get('load_average')} |")
    print()

runs = lines("fmnist-tfjs-300.jsonl")
if runs:
    print("| run | features | steps | probe_all | probe_10 | knn200 | gauge top-1 | pixels top-1 | align | unif | img/s | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r.get('label')} | {r['features']} | {r.get('steps', 0 if 'random' in r['features'] else '—')} | {pct(r['probe_all'])} | {pct(r['probe_10_per_class'])} | {pct(r['knn200'])} | {pct(r.get('gauge_top1'))} | {pct(r.get('gauge_pixels_top1'))} | {r.get('gauge_alignment', '—')} | {r.get('gauge_uniformity', '—')} | {r.get('train_images_per_s', '—')} | {r.get('load_average')} |")
