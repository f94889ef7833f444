"""`hpa_train` under `torchrun`: two CPU processes (gloo) train one model; only rank 0 writes outputs.

Two processes train ResNet18 at 32 px for one unfrozen epoch on a tiny synthetic dataset. Each rank reports the
validation figures it computed (a test hook: a launcher script that wraps `Checkpoint.after_epoch` and writes
`rank<N>.json` outside the output folder); both must be the same, since the predictions of all ranks are gathered before the
metric. The output folder must hold one checkpoint, one `export.pkl` and `valid_preds.npz` of the whole
validation set, with the F1 logged by rank 0.
"""
import json, os, socket, subprocess, sys, time
import numpy as np, pandas as pd, pytest
import torch.distributed as D

pytestmark = pytest.mark.skipif(not D.is_available() or not D.is_gloo_available(), reason='no gloo backend')

HOOK = """
import json, os, sys
import hpa_protein.model as m
after_epoch = m.Checkpoint.after_epoch
def hooked(self):  # every rank: the epoch's figures as it sees them
    rec = dict(zip(self.recorder.metric_names[1:-1], map(float, self.recorder.log[1:-1])), world=os.environ['WORLD_SIZE'])
    with open(os.path.join(os.environ['HPA_RANKS'], f"rank{os.environ['RANK']}.json"), 'w') as f: json.dump(rec, f)
    after_epoch(self)
m.Checkpoint.after_epoch = hooked
sys.argv[0] = 'hpa_train'
m.train_cli()
"""

ARGS = ['--arch', 'resnet18', '--size', '32', '--bs', '4', '--frozen_epochs', '0', '--epochs', '1', '--lr', '3e-3',
        '--num_workers', '0', '--threads', '1', '--seed', '0']

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    from hpa_protein.synth import make_synth
    d = make_synth(tmp_path_factory.mktemp('ds')/'synth', n_train=22, n_test=2, size=32, min_per_class=0, n_workers=1, show=False)
    df = pd.read_csv(d/'train.csv')
    df['is_valid'] = [i % 4 == 0 for i in range(len(df))]  # 6 valid: uneven over 2 ranks x bs 8, padding is dropped
    df.to_csv(d/'split.csv', index=False)
    return d

def test_torchrun_two_cpu_processes(dataset, tmp_path):
    out, ranks = tmp_path/'out', tmp_path/'ranks'; ranks.mkdir()
    hook = tmp_path/'hook.py'; hook.write_text(HOOK)
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore', 'HPA_RANKS': str(ranks), 'OMP_NUM_THREADS': '1',
           'CUDA_VISIBLE_DEVICES': ''}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
           '--master_port', str(_free_port()), str(hook), '--path', str(dataset), '--out', str(out),
           '--split', str(dataset/'split.csv'), *ARGS]
    t0 = time.time()
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:]
    print(f'2-process run: {time.time()-t0:.1f}s')
    # each rank trained and computed the same metric over the whole validation set
    res = [json.loads((ranks/f'rank{i}.json').read_text()) for i in range(2)]
    assert [o['world'] for o in res] == ['2', '2']
    assert res[0] == res[1], res
    # only rank 0 wrote: one checkpoint, one export, one history line, one log line per epoch
    files = sorted(str(p.relative_to(out)) for p in out.rglob('*') if p.is_file())
    assert files == ['export.pkl', 'history.jsonl', 'models/last.pth', 'valid_preds.npz'], files
    hist = [json.loads(l) for l in (out/'history.jsonl').read_text().splitlines()]
    assert [(h['phase'], h['epoch']) for h in hist] == [(1, 0)]
    assert abs(hist[0]['macro_f1'] - res[0]['macro_f1']) < 1e-6
    assert r.stdout.count('unfrozen epoch 1/1') == 1, r.stdout[-4000:]
    # valid_preds: every validation sample once, in order, and the F1 of the epoch
    from hpa_protein.thresholds import macro_f1
    vp, df = np.load(out/'valid_preds.npz'), pd.read_csv(dataset/'split.csv')
    assert list(vp['ids']) == list(df.Id[df.is_valid]) and vp['probs'].shape == (df.is_valid.sum(), 28)
    assert abs(macro_f1(vp['y'], vp['probs']) - hist[0]['macro_f1']) < 1e-4
