"""A k-fold run reads the dataset's labels once, and each fold's split from memory, not from the files again.

An audit hook (`sys.addaudithook`, the 'open' event every Python `open` raises, pandas' CSV reader included) records
every opening of `train.csv` and `split.csv` for reading while `kfold_train` trains two folds of a tiny dataset and
predicts its test set.
"""
import sys
from pathlib import Path
import pandas as pd
from conftest import tiny_dataset

OPENS, WATCH = [], {'on': False}
def _hook(event, args):
    if WATCH['on'] and event == 'open' and isinstance(args[0], (str, Path)) and Path(args[0]).name in ('train.csv', 'split.csv'):
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else 'r'
        if 'r' in mode and '+' not in mode: OPENS.append(Path(args[0]).name)
sys.addaudithook(_hook)

def test_kfold_reads_the_labels_once(tmp_path):
    from hpa_protein.kfold import kfold_train
    ids = [f'id{i:02d}' for i in range(16)]
    d = tiny_dataset(tmp_path/'ds', ids, [str(i % 3) for i in range(16)], ['t0', 't1'], size=16)
    WATCH['on'] = True
    try: kfold_train(d, tmp_path/'kf', 2, arch='resnet18', size=16, bs=4, epochs=1, lr=3e-3, num_workers=0, threads=1, tta=1, show=False)
    finally: WATCH['on'] = False
    assert OPENS.count('train.csv') == 1, OPENS        # the labels, once for the whole run
    assert OPENS.count('split.csv') == 0, OPENS        # each fold takes its rows from the table in memory
    assert len(pd.read_csv(tmp_path/'kf'/'submission.csv')) == 2
