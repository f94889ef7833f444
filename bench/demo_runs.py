"""What `bench_focal.py` and `bench_oversample.py` share: the demo (`run_pipeline`, every setting the demo's but one)
trained on the demo's synthetic dataset of each seed, once per value of that setting.

Not a benchmark of its own: the two scripts import it (run them as `python bench/bench_focal.py`, which puts `bench/`
on the import path).
"""
import json
from pathlib import Path
import numpy as np
from hpa_protein.data import read_labels, to_multihot
from hpa_protein.pipeline import run_pipeline, synth_data

def demo_runs(root, # Folder of the datasets (`data_seed{S}`) and of the runs (`seed{S}_{tag}{value}`)
              seeds, # One synthetic dataset per seed (the demo's, `synth_data` with that seed)
              setting:str, # The `run_pipeline` argument that varies, e.g. 'gamma'
              values, # Its values
              tag:str, # Its short name in the runs' folder names, e.g. 'g'
              reuse:bool=False, # Take a run's figures from its `summary.json` when it exists instead of training again
             ):
    "Yield `(seed, value, summary, f1, rare)`: a run's summary, its test F1 per class (label order) and the 8 rarest training classes."
    root = Path(root)
    for seed in seeds:
        data = synth_data(root/f'data_seed{seed}', n_train=2000, n_test=500, seed=seed, min_per_class=20)
        rare = np.argsort(to_multihot(read_labels(data).Target).sum(0), kind='stable')[:8]
        for v in values:
            s = root/f'seed{seed}_{tag}{v:g}'/'summary.json'
            r = json.loads(s.read_text()) if reuse and s.exists() else run_pipeline(s.parent, data, seed=seed, show=False, **{setting: v})
            yield seed, v, r, np.array(list(r['test_f1_per_class'].values())), rare
