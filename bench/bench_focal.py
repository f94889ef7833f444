"""Focal loss against BCE on the demo: test macro F1, the F1 of the eight rarest classes, and validation cross-fitted F1.

For every seed, one synthetic dataset (the demo's, `synth_data` with that seed) is trained on with each focal-loss
γ (`--gamma` of `hpa_train`/`hpa_demo`; 0 is BCE; 2 is the blog's and, since this benchmark, the demo's), every other setting the
demo's. Prints one row per run and the mean over seeds per γ; the choice is read on the validation column
(thresholds tuned on one half of the validation images, scored on the other), the test columns show what it gave.

usage: python bench/bench_focal.py [--dest outputs/bench_focal] [--seeds 0 1 2] [--gammas 0 2] [--reuse]
(--reuse: take a run's figures from DEST/seed{S}_g{G}/summary.json when it exists instead of training again)
"""
import argparse, json, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np
from demo_runs import demo_runs

p = argparse.ArgumentParser()
p.add_argument('--dest', default='outputs/bench_focal')
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--gammas', type=float, nargs='+', default=[0, 2])
p.add_argument('--reuse', action='store_true')
a = p.parse_args()
root = Path(a.dest)

rows = []
for seed, g, r, f, rare in demo_runs(root, a.seeds, 'gamma', a.gammas, 'g', a.reuse):
    rows.append((seed, g, r['valid_f1_crossfit'], r['test_f1'], f[rare].mean(), int((f > 0).sum())))
    print(f'seed {seed}  gamma {g:g}: validation cross-fitted {r["valid_f1_crossfit"]:.3f}; test macro F1 {r["test_f1"]:.3f}, '
          f'eight rarest classes {f[rare].mean():.3f}, {int((f > 0).sum())} classes above 0', flush=True)
print('\n| seed | γ | validation, cross-fitted | test macro F1 | 8 rarest classes | classes > 0 |\n|---|---|---|---|---|---|')
for r in rows: print(f'| {r[0]} | {r[1]:g} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]} |')
for g in a.gammas:
    m = np.array([r[2:] for r in rows if r[1] == g]).mean(0)
    print(f'| mean | {g:g} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} | {m[3]:.1f} |')
root.mkdir(parents=True, exist_ok=True)
(root/'focal.json').write_text(json.dumps([dict(zip(['seed', 'gamma', 'valid_crossfit', 'test_f1', 'rare8_f1', 'classes_above_0'], map(float, r))) for r in rows], indent=1))
