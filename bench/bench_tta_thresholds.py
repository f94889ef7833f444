"""Thresholds tuned on what they are applied to: validation (or out-of-fold) predictions with and without the test
set's TTA, and rare-class shrinkage, measured on the demo's test set.

For every seed, the demo (`run_pipeline`: the demo's settings and dataset for that seed; with --folds K the k-fold
recipe, K fold models averaged on the test set) is trained once (or reused with --reuse). Each exported model then
predicts its validation images with 1 and with 8 dihedral transforms and the test images with 8 (as `hpa_predict`
does; for k folds the mean of the fold models). Per-class F1 thresholds are tuned on each kind of validation (or
out-of-fold) predictions with shrink k in --shrinks (`best_thresholds(shrink=k)`: class c pulled toward the global
threshold by k/(n_c + k)), applied to the test probabilities (empty rows filled, as the demo's submission) and scored
against the test labels. Prints one row per seed and setting and the mean over seeds.

usage: python bench/bench_tta_thresholds.py [--dest outputs/bench_tta] [--seeds 0 1 2] [--shrinks 0 3 10] [--reuse]
                                            [--folds K --epochs E]
(--reuse: a DEST/seed{S} holding export.pkl (k folds: fold*/export.pkl) and split.csv, with its dataset in
DEST/data_seed{S}, is not trained again)
"""
import argparse, json, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np
from fastai.learner import load_learner
from hpa_protein.data import read_labels, read_ids, to_multihot
from hpa_protein.split import load_split
from hpa_protein.loaders import hpa_test_dl
from hpa_protein.predict import predict_probs
from hpa_protein.thresholds import best_thresholds, apply_thresholds, macro_f1
from hpa_protein.pipeline import run_pipeline, synth_data, DEMO_EPOCHS

p = argparse.ArgumentParser()
p.add_argument('--dest', default='outputs/bench_tta')
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--shrinks', type=float, nargs='+', default=[0, 3, 10])
p.add_argument('--folds', type=int, default=0, help='K > 1: the k-fold recipe (out-of-fold thresholds, K models averaged)')
p.add_argument('--epochs', type=int, default=DEMO_EPOCHS, help='epochs of each model')
p.add_argument('--reuse', action='store_true')
a = p.parse_args()
root = Path(a.dest)

def preds(model_dir, data, valid_ids, test_ids):
    "Validation probabilities with TTA 1 and 8, and test probabilities with TTA 8, of the model in `model_dir`."
    learn = load_learner(model_dir/'export.pkl', cpu=True)
    vdl = hpa_test_dl(learn.dls, data, valid_ids, folder='train', show=False)
    pv = {t: predict_probs(learn, vdl, t, show=False) for t in (1, 8)}
    return pv, predict_probs(learn, hpa_test_dl(learn.dls, data, test_ids, show=False), 8, show=False)

rows = []
for seed in a.seeds:
    dest, data = root/f'seed{seed}', root/f'data_seed{seed}'
    if not (data/'train.csv').exists(): synth_data(data, n_train=2000, n_test=500, seed=seed, min_per_class=20)
    done = (dest/'export.pkl').exists() if a.folds < 2 else all((dest/f'fold{k}'/'export.pkl').exists() for k in range(a.folds))
    if not (a.reuse and done): run_pipeline(dest, data, seed=seed, folds=a.folds, epochs=a.epochs, show=False)
    sp = load_split(dest/'split.csv')
    tids = read_ids(data/'sample_submission.csv')
    yt = to_multihot(read_labels(data/'test_labels.csv').set_index('Id').loc[tids].Target)
    if a.folds < 2:
        va = sp[sp.is_valid]; yv = to_multihot(va.Target)
        pv, pt = preds(dest, data, va.Id.tolist(), tids)
    else:  # out of fold: each training image predicted by the model of its fold; the test set by the mean of the models
        parts = [(sp[sp.fold == k], *preds(dest/f'fold{k}', data, sp.Id[sp.fold == k].tolist(), tids)) for k in range(a.folds)]
        yv = np.concatenate([to_multihot(d.Target) for d, _, _ in parts])
        pv = {t: np.concatenate([v[t] for _, v, _ in parts]) for t in (1, 8)}
        pt = np.mean([t for _, _, t in parts], 0)
    for t in (1, 8):
        for k in a.shrinks:
            th = best_thresholds(pv[t], yv, shrink=k)
            f = macro_f1(yt, apply_thresholds(pt, th, fill_empty=True).astype(np.float32), 0.5)
            rows.append(dict(seed=seed, valid_tta=t, shrink=k, test_f1=float(f)))
            print(f'seed {seed}  {"out-of-fold" if a.folds > 1 else "validation"} TTA {t}  shrink {k:g}: test macro F1 {f:.4f}', flush=True)
print(f'\nmean over seeds {" ".join(map(str, a.seeds))}' + (f' ({a.folds} folds of {a.epochs} epochs)' if a.folds > 1 else f' ({a.epochs} epochs)') + ':')
for t in (1, 8):
    for k in a.shrinks:
        m = np.mean([r['test_f1'] for r in rows if r['valid_tta'] == t and r['shrink'] == k])
        print(f'  thresholds tuned with TTA {t}, shrink {k:g}: test macro F1 {m:.4f}')
(root/'tta_thresholds.json').write_text(json.dumps(rows, indent=1))
