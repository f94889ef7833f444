"""Two probes of whether a score comes from seeing the green patterns (used by tests/test_learning.py and
bench/bench_learn.py; the results are in nbs/06_pipeline.ipynb).

- `stats_probe`: a one-vs-rest logistic regression on per-image channel statistics (each stain's mean, std and
  50th/90th/99th/99.9th percentiles), fitted on the training rows: if brightness and coverage gave the labels away,
  it would score close to the CNN.
- `blank_channel`: a copy of the dataset with the green stain black, to train and score the whole pipeline on.
"""
import os, shutil
from pathlib import Path
import numpy as np, pandas as pd
from hpa_protein.core import LABELS, HPADataError
from hpa_protein.data import read_sample, read_channel, write_png, to_multihot
from hpa_protein.split import load_split

def channel_features(imgs) -> np.ndarray:
    "Per image and channel: mean, std and the 50/90/99/99.9th percentiles of a `(N, C, H, W)` uint8 batch."
    x = np.asarray(imgs).reshape(len(imgs), imgs.shape[1], -1).astype(np.float32)
    return np.concatenate([x.mean(2), x.std(2)] + [np.percentile(x, q, axis=2) for q in (50, 90, 99, 99.9)], 1)

def stats_probe(path, # Dataset folder
                df, # Split table (Id, Target, is_valid) or its CSV
                test_ids=None, # Also predict these Ids of `path/folder`
                folder:str='test', # Folder of `test_ids`
                size:int=128, # Images are read at this size
               ) -> tuple:
    "Validation and test probabilities of a logistic regression on `channel_features`, fitted on `df`'s training rows."
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    path = Path(path); df = load_split(df) if not isinstance(df, pd.DataFrame) else df
    v = df.is_valid.astype(str).str.lower().isin(['true', '1']).values
    feats = lambda fo, ids: channel_features(np.stack([read_sample(path/fo, i, size) for i in ids]))
    X, y = feats('train', df.Id), to_multihot(df.Target)
    keep = y[~v].any(0)                                  # a class without training positives gets probability 0
    clf = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=2000))).fit(X[~v], y[~v][:, keep])
    def probs(F):
        p = np.zeros((len(F), len(LABELS)), np.float32); p[:, keep] = clf.predict_proba(F); return p
    return probs(X[v]), (probs(feats(folder, test_ids)) if test_ids is not None else None)

def blank_channel(src, # Dataset folder (read only)
                  dest, # New folder
                  channel:str='green', # The stain to blank
                 ) -> Path:
    "A copy of dataset `src` in `dest` whose `channel` PNGs are black; everything else linked or copied."
    src, dest = Path(src), Path(dest)
    if dest.exists(): raise HPADataError(f'{dest}: exists; choose a new folder')
    for f in sorted(src.rglob('*')):
        if not f.is_file(): continue
        t = dest/f.relative_to(src); t.parent.mkdir(parents=True, exist_ok=True)
        if f.name.endswith(f'_{channel}.png'): write_png(np.zeros_like(read_channel(f)), t)
        else:
            try: os.link(f, t)
            except OSError: shutil.copy2(f, t)
    return dest
