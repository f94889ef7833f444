"""Rare-class oversampling measured: test macro F1 and the F1 of the eight rarest classes, with and without it.

For every seed, one synthetic dataset (the demo's, `synth_data` with that seed) is trained on with each
oversampling power (`--oversample` of `hpa_train`/`hpa_demo`: images are drawn with weight
(1/frequency of their rarest label)**power; 0 is plain shuffling), every other setting the demo's. Prints one row
per run and the mean over seeds per power. The eight rarest classes are counted in the synthetic training labels
(which follow the official label frequencies).

usage: python bench/bench_oversample.py [--dest outputs/bench_oversample] [--seeds 0 1 2] [--powers 0 0.5] [--reuse]
(--reuse: take a run's figures from DEST/seed{S}_os{P}/summary.json when it exists instead of training again)
"""
import argparse, json, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np
from demo_runs import demo_runs

p = argparse.ArgumentParser()
p.add_argument('--dest', default='outputs/bench_oversample')
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--powers', type=float, nargs='+', default=[0, 0.5])
p.add_argument('--reuse', action='store_true')
a = p.parse_args()
root = Path(a.dest)

rows = []
for seed, power, r, f, rare in demo_runs(root, a.seeds, 'oversample', a.powers, 'os', a.reuse):
    rows.append((seed, power, r['test_f1'], f[rare].mean(), int((f > 0).sum()), r['valid_f1_crossfit']))
    print(f'seed {seed}  oversample {power:g}: test macro F1 {r["test_f1"]:.3f}, eight rarest classes '
          f'({" ".join(map(str, sorted(rare)))}) {f[rare].mean():.3f}, {int((f > 0).sum())} classes above 0, '
          f'validation cross-fitted {r["valid_f1_crossfit"]:.3f}', flush=True)
print('\nmean over seeds ' + ' '.join(map(str, a.seeds)) + ':')
for power in a.powers:
    m = np.array([r[2:] for r in rows if r[1] == power]).mean(0)
    print(f'  oversample {power:g}: test macro F1 {m[0]:.3f}, eight rarest {m[1]:.3f}, classes above 0 {m[2]:.1f}, validation cross-fitted {m[3]:.3f}')
(root/'oversample.json').write_text(json.dumps([dict(zip(['seed', 'power', 'test_f1', 'rare8_f1', 'classes_above_0', 'valid_crossfit'], map(float, r))) for r in rows], indent=1))
