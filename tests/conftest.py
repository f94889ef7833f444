"""Shared test fixtures: a dataset in the Kaggle layout made of real HPA files, a listing that proves it unchanged, a
tiny dataset of random images, and a tiny model.

`make_kaggle_dataset` assembles it from `tests/fixtures/hpa_real` (see its README): `train/`, `test/`, `train.csv`
and `sample_submission.csv`, and no `test_labels.csv`, as on Kaggle. Every PNG is a real competition file copied
unchanged; each Id gets one file per colour, taken in turn among the files of that colour, so the combination of
four stains is not a real image but every byte a reader sees is real.

`tiny_dataset` writes random 4-channel PNGs in the same layout, for tests that need images of a given size and
labels of their own; `TinyNet` is a 4-channel toy network small enough to train or export in a test.
"""
import hashlib, os, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from torch import nn
from hpa_protein.data import write_png
from hpa_protein.core import img_file

FIX = Path(__file__).resolve().parent/'fixtures'/'hpa_real'
CHANNELS = ('red', 'green', 'blue', 'yellow')  # the order of hpa_protein.data.CHANNELS
COMPETITION = 'hpa-competition-data'  # deliberately not the competition's slug: the dataset is found by its files

def _by_colour(*folders) -> dict:
    res = {c: [] for c in CHANNELS}
    for d in folders:
        for f in sorted(d.glob('*.png')): res[f.stem.rsplit('_', 1)[1]].append(f)
    return res

def _fill(folder, ids, files):
    "Copy one file per colour for each Id, cycling through the combinations of the files of each colour."
    folder.mkdir(parents=True)
    for k, i in enumerate(ids):
        step = 1
        for c in CHANNELS:
            fs = files[c]; shutil.copyfile(fs[(k // step) % len(fs)], folder/f'{i}_{c}.png'); step *= len(fs)

def make_kaggle_dataset(dest, # The dataset folder to create
                        n_train:int=24, # Training Ids: the Ids of the fixture files first, then the next rows of train.csv
                       ) -> Path:
    "A dataset in the Kaggle layout at `dest` whose every PNG is a real HPA file, copied unchanged."
    dest = Path(dest)
    labels = pd.read_csv(FIX/'train.csv', dtype=str, keep_default_na=False)
    own = pd.concat([pd.read_csv(FIX/'train_files.csv', dtype=str), pd.read_csv(FIX/'figure'/'files.csv', dtype=str)]).Id.tolist()
    ids = (own + [i for i in labels.Id if i not in set(own)])[:n_train]
    _fill(dest/'train', ids, _by_colour(FIX/'train', FIX/'figure'))
    labels.set_index('Id').loc[ids].reset_index().to_csv(dest/'train.csv', index=False)
    test_ids = pd.read_csv(FIX/'test'/'files.csv', dtype=str).Id.tolist()
    _fill(dest/'test', test_ids, _by_colour(FIX/'test'))
    pd.DataFrame({'Id': test_ids, 'Predicted': '0'}).to_csv(dest/'sample_submission.csv', index=False)
    return dest

def listing(root) -> dict:
    "Every folder and file under `root`: relative path -> ('dir',) or (size, sha256)."
    root, res = Path(root), {}
    for d, dirs, files in os.walk(root):
        for n in dirs: res[os.path.relpath(os.path.join(d, n), root)] = ('dir',)
        for n in files:
            p = Path(d)/n
            res[str(p.relative_to(root))] = (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
    return res

@pytest.fixture
def kaggle_input(tmp_path) -> Path:
    "A fresh `/kaggle/input` look-alike: the competition data (under a name of its own) beside a dataset of weights."
    root = tmp_path/'kaggle'/'input'
    make_kaggle_dataset(root/COMPETITION)
    (root/'resnet-weights').mkdir(); (root/'resnet-weights'/'README.txt').write_text('not a dataset of images\n')
    return root

def tiny_dataset(dest, # The dataset folder to create
                 ids, # Training Ids, written to train/ in this order
                 targets, # Their `Target` strings, or a function of the generator called after the images are drawn
                 test_ids=(), # Test Ids, written to test/ after the training images, and to sample_submission.csv
                 size:int=32, # Image side in pixels
                 seed:int=0, # Seed of the generator drawing every pixel
                ) -> Path:
    "A dataset in the Kaggle layout at `dest` whose PNGs are random uint8 noise, drawn in a fixed order from `seed`."
    dest, rng = Path(dest), np.random.default_rng(seed)
    for split, ii in (('train', ids), ('test', test_ids)):
        for i in ii:
            for c in CHANNELS: write_png(rng.integers(0, 255, (size, size), dtype=np.uint8), img_file(dest/split, i, c))
    if callable(targets): targets = targets(rng)
    pd.DataFrame({'Id': list(ids), 'Target': targets}).to_csv(dest/'train.csv', index=False)
    if len(test_ids): pd.DataFrame({'Id': list(test_ids), 'Predicted': '0'}).to_csv(dest/'sample_submission.csv', index=False)
    return dest

class TinyNet(nn.Module):
    "A 4-channel toy network; top level so `learn.export` can pickle it."
    def __init__(self):
        super().__init__()
        self.conv, self.head = nn.Conv2d(4, 8, 3, padding=1), nn.Linear(8 * 4, 28)
    def forward(self, x): return self.head(nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(x)), 2).flatten(1))
