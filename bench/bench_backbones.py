"""Backbones and training options on the demo: validation macro F1 (cross-fitted) over seeds, and time per epoch.

For every seed, one synthetic dataset (the demo's, `synth_data` with that seed) is trained on with each configuration,
every other setting the demo's (`run_pipeline`, as `hpa_demo`): the demo's ResNet34 (torchvision), three timm
backbones of similar CPU cost, and the ResNet34 with the options of the third-placed solution, gradient accumulation
(half the batch, two batches a step: the same effective batch) and weight averaging over the last epochs (SWA). All from
random weights (nothing is downloaded), 64 px, 20 epochs. The choice is read on the validation column (thresholds tuned
on one half of the validation images, scored on the other); the test column only shows what a choice gave. Time per
epoch is the median wall time of the training epochs (`EpochClock`), measured in this run, so comparable between its
rows only; its ratio to the ResNet34 of the same seed is printed too.

usage: python bench/bench_backbones.py [--dest outputs/bench_backbones] [--seeds 0 1 2] [--configs NAME ...] [--reuse]
(--reuse: take a run's figures from DEST/seed{S}_{NAME}/summary.json when it exists instead of training again)
"""
import argparse, json, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np
from fastai.callback.core import Callback
from hpa_protein.pipeline import run_pipeline, synth_data

CONFIGS = {  # name: the `run_pipeline` settings that differ from the demo's
    'resnet34': {},
    'efficientnet_b0': dict(arch='efficientnet_b0'),
    'resnet18d': dict(arch='resnet18d'),
    'densenet121': dict(arch='densenet121'),
    'resnet34_accum2': dict(bs=16, accum=2),
    'resnet34_swa5': dict(swa=5),
}

class EpochClock(Callback):
    "Wall seconds of each training epoch (training and validation), in `self.times`."
    order = 70
    def before_fit(self): self.times = []
    def before_epoch(self): self.t0 = time.time()
    def after_epoch(self): self.times.append(time.time() - self.t0)

p = argparse.ArgumentParser()
p.add_argument('--dest', default='outputs/bench_backbones')
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--configs', nargs='+', default=list(CONFIGS))
p.add_argument('--reuse', action='store_true')
a = p.parse_args()
root = Path(a.dest)

rows = []
for seed in a.seeds:
    data = synth_data(root/f'data_seed{seed}', n_train=2000, n_test=500, seed=seed, min_per_class=20)
    for name in a.configs:
        d, s = root/f'seed{seed}_{name}', root/f'seed{seed}_{name}'/'summary.json'
        if a.reuse and s.exists(): r = json.loads(s.read_text())
        else:
            clock = EpochClock()
            r = run_pipeline(d, data, seed=seed, show=False, cbs=[clock], **CONFIGS[name])
            r['epoch_s'] = float(np.median(clock.times)); s.write_text(json.dumps(r, indent=1))
        rows.append(dict(seed=seed, config=name, valid_crossfit=r['valid_f1_crossfit'], valid_05=r['valid_f1_05'],
                         test_f1=r['test_f1'], epoch_s=r['epoch_s']))
        print(f"seed {seed} {name:16}: validation cross-fitted {r['valid_f1_crossfit']:.3f} (at 0.5 {r['valid_f1_05']:.3f}); "
              f"test {r['test_f1']:.3f}; {r['epoch_s']:.1f} s an epoch", flush=True)

base = {r['seed']: r['epoch_s'] for r in rows if r['config'] == 'resnet34'}
print('\n| configuration | validation macro F1, cross-fitted (seeds) | mean | test macro F1 (mean) | s an epoch | × ResNet34 |\n|---|---|---|---|---|---|')
for name in a.configs:
    rs = [r for r in rows if r['config'] == name]
    v = [r['valid_crossfit'] for r in rs]
    ratios = [r['epoch_s']/base[r['seed']] for r in rs if r['seed'] in base]
    ratio = f'{np.mean(ratios):.2f}' if ratios else '—'   # only against a resnet34 row of the same seed in this run
    print(f"| {name} | {' / '.join(f'{x:.3f}' for x in v)} | {np.mean(v):.3f} | {np.mean([r['test_f1'] for r in rs]):.3f} | "
          f"{np.median([r['epoch_s'] for r in rs]):.1f} | {ratio} |")
root.mkdir(parents=True, exist_ok=True)
(root/'backbones.json').write_text(json.dumps(rows, indent=1))
