"""A training run killed after its first checkpoint resumes from it, in the same place of the one-cycle schedule.

Two `hpa_train` runs on a tiny random dataset (ResNet18, 32 px, 1 frozen + 3 unfrozen epochs): A runs through;
B is killed (SIGKILL) as soon as its first checkpoint exists, then restarted with --resume. B must continue
with the epoch after its checkpoint, use the learning rates A used at that point of the schedule, and finish
with the same outputs.
"""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest

from hpa_protein.data import CHANNELS, write_png, img_file

ARGS = ['--arch', 'resnet18', '--size', '32', '--bs', '8', '--frozen_epochs', '1', '--epochs', '3', '--lr', '3e-3',
        '--num_workers', '0', '--threads', '1', '--seed', '0']

@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    d = tmp_path_factory.mktemp('ds')
    rng = np.random.default_rng(0)
    ids = [f'id{i:03d}' for i in range(48)]
    for i in ids:
        for c in CHANNELS: write_png(rng.integers(0, 255, (32, 32), dtype=np.uint8), img_file(d/'train', i, c))
    targets = [' '.join(map(str, sorted(set(rng.integers(0, 28, rng.integers(1, 3)).tolist())))) for _ in ids]
    pd.DataFrame({'Id': ids, 'Target': targets}).to_csv(d/'train.csv', index=False)
    pd.DataFrame({'Id': ids, 'Target': targets, 'is_valid': [i % 4 == 0 for i in range(48)]}).to_csv(d/'split.csv', index=False)
    return d

def _cmd(ds, out, *extra):
    exe = Path(sys.executable).parent/'hpa_train'
    cmd = [str(exe)] if exe.exists() else [sys.executable, '-c', 'from hpa_protein.model import train_cli; train_cli()']
    return cmd + ['--path', str(ds), '--out', str(out), '--split', str(ds/'split.csv'), *ARGS, *extra]

def _hist(out): return [json.loads(l) for l in (out/'history.jsonl').read_text().splitlines()]

def test_kill_and_resume(dataset, tmp_path):
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    a_out, b_out = tmp_path/'a', tmp_path/'b'
    a = subprocess.Popen(_cmd(dataset, a_out), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    b = subprocess.Popen(_cmd(dataset, b_out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck = b_out/'models'/'last.pth'
    t0 = time.time()
    while not ck.exists() and b.poll() is None and time.time() - t0 < 600: time.sleep(0.05)
    assert ck.exists(), 'run B wrote no checkpoint'
    b.send_signal(signal.SIGKILL); b.wait()
    assert not (b_out/'export.pkl').exists(), 'run B finished before it could be killed'
    import torch
    meta = torch.load(ck, map_location='cpu', weights_only=False)
    done = [(h['phase'], h['epoch']) for h in _hist(b_out)]
    assert done and done[-1] == (meta['phase'], meta['epoch'])

    r = subprocess.run(_cmd(dataset, b_out, '--resume'), env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"resuming after phase {meta['phase']} epoch {meta['epoch'] + 1}" in r.stdout, r.stdout
    a_log, _ = a.communicate(timeout=600)
    assert a.returncode == 0, a_log[-3000:]

    ha, hb = _hist(a_out), _hist(b_out)
    schedule = [(0, 0), (1, 0), (1, 1), (1, 2)]
    assert [(h['phase'], h['epoch']) for h in ha] == schedule
    assert [(h['phase'], h['epoch']) for h in hb] == schedule  # every epoch once: continued right after the checkpoint
    resumed = hb[len(done):]
    assert resumed, 'nothing left to train after the kill: make the run longer'
    for x, y in zip(ha, hb):  # the one-cycle position is restored: same LRs at the start of every epoch
        assert x['n_epoch'] == y['n_epoch']
        np.testing.assert_allclose(x['lr0'], y['lr0'], rtol=1e-9)
    for out in (a_out, b_out):
        assert (out/'export.pkl').exists()
        vp = np.load(out/'valid_preds.npz')
        assert vp['probs'].shape == (12, 28) and vp['probs'].dtype == np.float32 and vp['y'].dtype == np.uint8
    assert '\r' not in a_log and 'epoch 3/3' in a_log  # log-friendly progress lines
