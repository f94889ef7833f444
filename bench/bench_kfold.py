"""The k-fold recipe on the demo's synthetic dataset: out-of-fold and test macro F1, the ensemble against single models.

Runs `run_pipeline(..., folds=K)` (the same as `hpa_demo --folds K`: the demo's schedule for every fold) and prints
the out-of-fold scores per fold and in all (thresholds cross-fitted: each fold's rows thresholded by thresholds tuned
on the other folds), then the synthetic test set's macro F1 for: the submitted ensemble (mean of the K fold models,
out-of-fold thresholds), the class-fraction rule on the ensemble, each fold model alone with thresholds tuned on its
own validation fold, the fold models with the out-of-fold thresholds, and, as diagnostics never submitted, the
ensemble and the single models with thresholds tuned on the test labels (the gap to them says how well thresholds
tuned on single-model predictions fit the averaged probabilities). A rerun in the same DEST continues unfinished folds.

usage: python bench/bench_kfold.py [--dest outputs/bench_kfold] [--folds 5] [--seed 0] [--epochs N] [--path DATA]
(--epochs: per fold; default the demo's)
"""
import argparse, json, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
from hpa_protein.pipeline import run_pipeline, DEMO_EPOCHS

p = argparse.ArgumentParser()
p.add_argument('--dest', default='outputs/bench_kfold'); p.add_argument('--folds', type=int, default=5)
p.add_argument('--seed', type=int, default=0); p.add_argument('--epochs', type=int, default=DEMO_EPOCHS); p.add_argument('--path', default=None, help='an existing synthetic dataset (default: generate the demo one)')
a = p.parse_args()
r = run_pipeline(a.dest, a.path, seed=a.seed, folds=a.folds, epochs=a.epochs, show=False)
k = json.loads((Path(a.dest)/'kfold.json').read_text())
print(f'\n{a.folds} folds of {a.epochs} epochs, seed {a.seed}: out-of-fold macro F1 {k["oof_f1_05"]:.3f} at 0.5, {k["oof_f1_crossfit"]:.3f} cross-fitted')
for f in k['per_fold']: print(f'  fold {f["fold"]}: {f["n"]} images, macro F1 {f["f1_05"]:.3f} at 0.5, {f["f1_crossfit"]:.3f} cross-fitted')
print('test macro F1:')
for name, v in k['test'].items(): print(f'  {name}: ' + (', '.join(f'{x:.3f}' for x in v) if isinstance(v, list) else f'{v:.3f}'))
print(f'total {r["total_s"]:.0f}s: ' + ', '.join(f'{n} {s:.0f}s' for n, s in r['times'].items()))
