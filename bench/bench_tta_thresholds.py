"""Thresholds tuned on what they are applied to: validation predictions with and without the test set's TTA, and
rare-class shrinkage, measured on the demo's test set.

For every seed, the demo (`run_pipeline`, the demo's settings and dataset for that seed) is trained once (or reused
with --reuse); its exported Learner then predicts the validation images with 1 and with 8 dihedral transforms, and
the test images with 8 (as `hpa_predict` does). Per-class F1 thresholds are tuned on each kind of validation
predictions with shrink k in --shrinks (`best_thresholds(shrink=k)`: class c pulled toward the global threshold by
k/(n_c + k)), applied to the test probabilities (empty rows filled, as the demo's submission) and scored against the
test labels. Prints one row per seed and setting and the mean over seeds.

usage: python bench/bench_tta_thresholds.py [--dest outputs/bench_tta] [--seeds 0 1 2] [--shrinks 0 3 10] [--reuse]
(--reuse: a DEST/seed{S} holding export.pkl and split.csv, with its dataset in DEST/data_seed{S}, is not trained again)
"""
import argparse, json, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch
from fastai.learner import load_learner
from hpa_protein.data import read_labels, read_ids, to_multihot
from hpa_protein.split import load_split
from hpa_protein.loaders import hpa_test_dl
from hpa_protein.predict import predict_probs
from hpa_protein.thresholds import best_thresholds, apply_thresholds, macro_f1
from hpa_protein.pipeline import run_pipeline, synth_data

p = argparse.ArgumentParser()
p.add_argument('--dest', default='outputs/bench_tta')
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--shrinks', type=float, nargs='+', default=[0, 3, 10])
p.add_argument('--reuse', action='store_true', help='reuse DEST/seed{S} when it holds a finished run')
a = p.parse_args()
root = Path(a.dest)
torch.set_num_threads(max(1, torch.get_num_threads()))

rows = []
for seed in a.seeds:
    dest, data = root/f'seed{seed}', root/f'data_seed{seed}'
    if not (data/'train.csv').exists(): synth_data(data, n_train=2000, n_test=500, seed=seed, min_per_class=20)
    if not (a.reuse and (dest/'export.pkl').exists()): run_pipeline(dest, data, seed=seed, show=False)
    learn = load_learner(dest/'export.pkl', cpu=True)
    sp = load_split(dest/'split.csv'); va = sp[sp.is_valid]
    yv = to_multihot(va.Target)
    vdl = hpa_test_dl(learn.dls, data, va.Id.tolist(), folder='train', show=False)
    pv = {t: predict_probs(learn, vdl, t, show=False) for t in (1, 8)}
    tids = read_ids(data/'sample_submission.csv')
    lab = read_labels(data/'test_labels.csv').set_index('Id').loc[tids]
    yt = to_multihot(lab.Target)
    pt = predict_probs(learn, hpa_test_dl(learn.dls, data, tids, show=False), 8, show=False)
    if (dest/'summary.json').exists():
        print(f'seed {seed}: the run itself scored test macro F1 {json.loads((dest/"summary.json").read_text())["test_f1"]:.4f} '
              f'(its thresholds tuned on its own valid_preds.npz, shrink 0)', flush=True)
    for t in (1, 8):
        for k in a.shrinks:
            th = best_thresholds(pv[t], yv, shrink=k)
            f = macro_f1(yt, apply_thresholds(pt, th, fill_empty=True).astype(np.float32), 0.5)
            rows.append(dict(seed=seed, valid_tta=t, shrink=k, test_f1=float(f)))
            print(f'seed {seed}  validation TTA {t}  shrink {k:g}: test macro F1 {f:.4f}', flush=True)
print('\nmean over seeds ' + ' '.join(map(str, a.seeds)) + ':')
for t in (1, 8):
    for k in a.shrinks:
        m = np.mean([r['test_f1'] for r in rows if r['valid_tta'] == t and r['shrink'] == k])
        print(f'  validation TTA {t}, shrink {k:g}: test macro F1 {m:.4f}')
(root/'tta_thresholds.json').write_text(json.dumps(rows, indent=1))
