"""A training run killed in the middle of its unfrozen phase resumes exactly where it was.

Runs of `train` on a tiny random dataset (ResNet18, 32 px, one thread, 1 frozen + 3 unfrozen epochs of 4 batches),
each in a fresh process: A runs through; B kills itself with SIGKILL (the `KillAfter` callback below) after its
10th training batch, the 2nd batch of the 2nd unfrozen epoch, and is then restarted with `resume=True`.

Both train under fastai's `MixedPrecision`, whose CUDA `GradScaler` is swapped for a CPU one (`CPUScaler`, with a
short growth interval so that its scale moves every few steps): on a CPU this is the only way to see the scaler's
state travel through a checkpoint. The resumed run must start after the last checkpoint (phase 1, epoch 0), train
only the remaining epochs, and end with the same history as A: learning rates of every epoch, scaler scale,
losses and macro F1, and the same validation predictions (the checkpoint restores the optimizer, the scaler,
the smoothed loss and every random state).
"""
import json, os, signal, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from fastai.callback.core import Callback
from fastai.callback.fp16 import MixedPrecision

from conftest import tiny_dataset

N_BATCHES, KILL_AT = 4, 10  # 36 training images / bs 8 (last partial batch dropped); 4 frozen + 4 + 2 unfrozen

class CPUScaler(Callback):
    "Replace `MixedPrecision`'s (disabled, CUDA) scaler by a CPU `GradScaler` whose scale doubles every 3 steps."
    order = MixedPrecision.order + 1
    def before_fit(self): self.learn.scaler = torch.amp.GradScaler('cpu', init_scale=2.**10, growth_interval=3)

class KillAfter(Callback):
    "SIGKILL this process after `n` training batches (counted over every fit of the run)."
    def __init__(self, n): self.n, self.seen = n, 0
    def after_batch(self):
        if not self.training: return
        self.seen += 1
        if self.seen == self.n: os.kill(os.getpid(), signal.SIGKILL)

RUN = '''
import sys, warnings
warnings.filterwarnings('ignore')
sys.path.insert(0, {tests!r})
from fastai.callback.fp16 import MixedPrecision
from test_resume import CPUScaler, KillAfter
from hpa_protein.model import train
cbs = [MixedPrecision(), CPUScaler()] + ([KillAfter({kill})] if {kill} else [])
train({ds!r}, {out!r}, {split!r}, arch='resnet18', size=32, bs=8, frozen_epochs=1, epochs=3, lr=3e-3,
      num_workers=0, threads=1, seed=0, resume={resume}, cbs=cbs{extra})
'''

@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    ids = [f'id{i:03d}' for i in range(48)]
    d = tiny_dataset(tmp_path_factory.mktemp('ds'), ids, lambda rng:
                     [' '.join(map(str, sorted(set(rng.integers(0, 28, rng.integers(1, 3)).tolist())))) for _ in ids])
    pd.read_csv(d/'train.csv', dtype=str).assign(is_valid=[i % 4 == 0 for i in range(48)]).to_csv(d/'split.csv', index=False)
    return d

def _run(ds, out, kill=0, resume=False, extra=''):
    code = RUN.format(tests=str(Path(__file__).parent), kill=kill, ds=str(ds), out=str(out), split=str(ds/'split.csv'), resume=resume, extra=extra)
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    p = subprocess.Popen([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.communicate(timeout=900)[0], p.returncode

def _hist(out): return [json.loads(l) for l in (out/'history.jsonl').read_text().splitlines()]

def test_kill_mid_phase_and_resume(dataset, tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    a_out, b_out = tmp_path/'a', tmp_path/'b'
    with ThreadPoolExecutor(2) as ex:  # A and B side by side
        fa, fb = ex.submit(_run, dataset, a_out), ex.submit(_run, dataset, b_out, KILL_AT)
        (a_log, a_rc), (b_log, b_rc) = fa.result(), fb.result()
    assert a_rc == 0, a_log[-3000:]
    assert b_rc == -signal.SIGKILL, b_log[-3000:]
    # B died in the 2nd unfrozen epoch: its last checkpoint is the 1st unfrozen epoch's, and nothing was exported
    ck = torch.load(b_out/'models'/'last.pth', map_location='cpu', weights_only=False)
    assert (ck['phase'], ck['epoch'], ck['n_epoch']) == (1, 0, 3)
    assert [(h['phase'], h['epoch']) for h in _hist(b_out)] == [(0, 0), (1, 0)]
    assert ck['scaler']['scale'] == 2.**10 * 2**(N_BATCHES//3) and ck['scaler']['_growth_tracker'] == N_BATCHES % 3
    assert ck['smooth_loss'][0] == N_BATCHES and ck['lr'] == 3e-3
    assert not (b_out/'export.pkl').exists()

    r_log, r_rc = _run(dataset, b_out, resume=True)
    assert r_rc == 0, r_log[-3000:]
    assert 'resuming after phase 1 epoch 1' in r_log, r_log
    # only the remaining epochs ran: no frozen epoch, no first unfrozen epoch
    assert not [l for l in r_log.splitlines() if l.startswith('frozen epoch')]
    assert 'unfrozen epoch 1/3' not in r_log and 'unfrozen epoch 2/3' in r_log and 'unfrozen epoch 3/3' in r_log
    assert '\r' not in r_log

    ha, hb = _hist(a_out), _hist(b_out)
    schedule = [(0, 0), (1, 0), (1, 1), (1, 2)]
    assert [(h['phase'], h['epoch']) for h in ha] == schedule
    assert [(h['phase'], h['epoch']) for h in hb] == schedule  # every epoch once: continued right after the checkpoint
    for x, y in zip(ha, hb):
        assert (x['n_epoch'], x['lr'], x['scale']) == (y['n_epoch'], y['lr'], y['scale']), (x, y)
        np.testing.assert_allclose(x['lr0'], y['lr0'], rtol=1e-9)  # the one-cycle position
        for k in ('train_loss', 'valid_loss', 'macro_f1'): np.testing.assert_allclose(x[k], y[k], rtol=1e-5, err_msg=k)
    # the scale kept growing through the kill (a fresh scaler would have restarted at 2**10)
    assert [h['scale'] for h in ha[1:]] == [2.**10 * 2**(N_BATCHES*e//3) for e in (1, 2, 3)]
    pa, pb = (np.load(o/'valid_preds.npz') for o in (a_out, b_out))
    assert pa['probs'].shape == (12, 28) and pa['probs'].dtype == np.float32 and pa['y'].dtype == np.uint8
    np.testing.assert_allclose(pa['probs'], pb['probs'], rtol=1e-4, atol=1e-6)
    assert (b_out/'export.pkl').exists()

def test_resume_with_accumulation_and_averaging(dataset, tmp_path):
    "Two batches a step and the last two epochs averaged: killed in the averaged epochs, the resumed run ends as the run that was not."
    from concurrent.futures import ThreadPoolExecutor
    extra, kill = ', accum=2, swa=2', 3*N_BATCHES + 2   # in the 3rd unfrozen epoch: the checkpoint holds one averaged epoch
    a_out, b_out = tmp_path/'a', tmp_path/'b'
    with ThreadPoolExecutor(2) as ex:
        fa, fb = ex.submit(_run, dataset, a_out, extra=extra), ex.submit(_run, dataset, b_out, kill, extra=extra)
        (a_log, a_rc), (b_log, b_rc) = fa.result(), fb.result()
    assert a_rc == 0 and b_rc == -signal.SIGKILL, (a_log[-3000:], b_log[-3000:])
    ck = torch.load(b_out/'models'/'last.pth', map_location='cpu', weights_only=False)
    assert (ck['phase'], ck['epoch']) == (1, 1) and ck['weight_average']['count'] == 1
    r_log, r_rc = _run(dataset, b_out, resume=True, extra=extra)
    assert r_rc == 0, r_log[-3000:]
    ha, hb = _hist(a_out), _hist(b_out)
    assert [(h['phase'], h['epoch']) for h in hb] == [(h['phase'], h['epoch']) for h in ha] == [(0, 0), (1, 0), (1, 1), (1, 2)]
    for x, y in zip(ha, hb):
        for k in ('train_loss', 'valid_loss', 'macro_f1'): np.testing.assert_allclose(x[k], y[k], rtol=1e-5, err_msg=k)
    pa, pb = (np.load(o/'valid_preds.npz') for o in (a_out, b_out))
    np.testing.assert_allclose(pa['probs'], pb['probs'], rtol=1e-4, atol=1e-6)   # the averaged model's predictions
    ma = torch.load(a_out/'models'/'last.pth', map_location='cpu', weights_only=False)['weight_average']
    assert ma['count'] == 2
