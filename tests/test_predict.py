"End to end through the CLIs of 04_thresholds and 05_predict: an exported Learner, thresholds, TTA, a checked submission."
import json, subprocess, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from torch import nn

from hpa_protein.data import read_ids
from hpa_protein.core import CHANNELS, LABELS, HPADataError, img_file
from hpa_protein.thresholds import thresholds_cli, load_thresholds, save_thresholds
from hpa_protein.synth import sim_preds
from hpa_protein.data import load_preds
from hpa_protein.predict import predict_cli, predict_test, score_submission, predict_probs
from conftest import TinyNet, tiny_dataset

def _dataset(root, n_train=12, n_test=7, size=32):
    test_ids = [f'test{i}' for i in range(n_test)]
    tiny_dataset(root, [f'train{i}' for i in range(n_train)], [str(i % 28) for i in range(n_train)], test_ids, size=size)
    test_ids = test_ids[::-1]       # the sample's order is not sorted
    pd.DataFrame({'Id': test_ids, 'Predicted': '0'}).to_csv(root/'sample_submission.csv', index=False)
    pd.DataFrame({'Id': test_ids, 'Target': ['0', '0 25', '2', '0', '16 0', '25', '7']}).to_csv(root/'test_labels.csv', index=False)
    return root

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A dataset, an exported learner (dls from hpa_dls) and simulated validation predictions in OUT."
    from fastai.learner import Learner
    from hpa_protein.loaders import hpa_dls
    tmp = tmp_path_factory.mktemp('pred')
    path, out = _dataset(tmp/'ds'), tmp/'out'
    out.mkdir()
    df = pd.read_csv(path/'train.csv', dtype=str).assign(is_valid=[i % 4 == 0 for i in range(12)])
    dls = hpa_dls(path, df, stats=dict(mean=[.5]*4, std=[.3]*4), size=16, bs=4, num_workers=0, device='cpu', aug=False)
    torch.manual_seed(0)
    learn = Learner(dls, TinyNet(), loss_func=nn.BCEWithLogitsLoss())
    learn.export(out/'export.pkl')
    probs, y = sim_preds(400, seed=2)
    np.savez(out/'valid_preds.npz', ids=np.array([f'v{i}' for i in range(400)]), probs=probs, y=y)
    return path, out, learn

def test_thresholds_cli(run, tmp_path):
    "The console script writes thresholds.json and the figures and prints both scores."
    _, out, _ = run
    o = tmp_path/'o'; o.mkdir(); shutil.copy(out/'valid_preds.npz', o)
    r = subprocess.run(['hpa_thresholds', '--out', str(o), '--shrink', '5'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'macro F1 at 0.5:' in r.stdout and 'with f1 thresholds (shrink 5):' in r.stdout
    th = load_thresholds(o/'thresholds.json')
    assert th.shape == (28,) and ((th >= 0) & (th <= 1)).all()
    assert (o/'figures'/'f1_curves.png').stat().st_size > 1000 and (o/'figures'/'class_report.png').exists()
    assert len(pd.read_csv(o/'class_report.csv')) == 28

def test_predict_cli(run, capsys):
    "Loads OUT/export.pkl, predicts with TTA, saves test_probs.npz and a submission in the sample's order, scores it."
    path, out, learn = run
    save_thresholds(np.full(28, .5), out/'thresholds.json')
    predict_cli(out=str(out), path=str(path), tta=4, fill_empty=True, bs=3)
    printed = capsys.readouterr().out
    assert 'wrote' in printed and '0 empty' in printed and 'macro F1 against' in printed
    sub = pd.read_csv(out/'submission.csv', dtype=str, keep_default_na=False)
    sample = pd.read_csv(path/'sample_submission.csv', dtype=str)
    assert list(sub.columns) == ['Id', 'Predicted'] and sub.Id.tolist() == sample.Id.tolist()
    ids, probs, _ = load_preds(out/'test_probs.npz')
    assert list(ids) == sample.Id.tolist() and probs.shape == (7, 28) and probs.dtype == np.float32
    # the exported learner predicts exactly what the in-memory one does
    sub2 = predict_test(out/'again', path, tta=4, learn=learn, thresholds=out/'thresholds.json', fill_empty=True, show=False)
    np.testing.assert_allclose(load_preds(out/'again'/'test_probs.npz')[1], probs, atol=1e-6)
    assert sub2.equals(sub)
    from fastai.learner import load_learner
    from hpa_protein.loaders import hpa_test_dl
    ld = load_learner(out/'export.pkl', cpu=True)  # the training preprocessing travels with the export
    np.testing.assert_allclose(predict_probs(ld, hpa_test_dl(ld.dls, path, ids), 4, show=False), probs, atol=1e-6)
    m, per = score_submission(out/'submission.csv', path/'test_labels.csv')
    assert 0 <= m <= 1 and len(per) == 28

def test_predict_console_script(run, tmp_path):
    "`hpa_predict` as a command, in a fresh process (the toy network's module made importable for unpickling)."
    import os
    path, out, _ = run
    o = tmp_path/'o'; o.mkdir(); shutil.copy(out/'export.pkl', o)
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(Path(__file__).parent), os.environ.get('PYTHONPATH', '')])}
    r = subprocess.run(['hpa_predict', '--out', str(o), '--path', str(path), '--tta', '2', '--fill_empty'],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'threshold 0.5 for every label' in r.stdout and '0 empty' in r.stdout and 'macro F1 against' in r.stdout
    assert read_ids(o/'submission.csv') == read_ids(path/'sample_submission.csv')
    r = subprocess.run(['hpa_predict', '--out', str(o), '--path', str(tmp_path/'nowhere')], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and 'sample_submission.csv: file not found' in r.stderr

def _files(d): return sorted(p.name for p in Path(d).rglob('*')) if Path(d).exists() else []

def test_predict_bad_inputs(run, tmp_path):
    "Each bad input stops the run with one error naming it, before anything is written."
    path, out, _ = run
    ds = tmp_path/'ds'; shutil.copytree(path, ds)
    o = tmp_path/'o'; o.mkdir(); shutil.copy(out/'export.pkl', o)
    # thresholds: wrong length, out of range
    (tmp_path/'th27.json').write_text(json.dumps({l: .5 for l in LABELS[:27]}))
    with pytest.raises(HPADataError, match=r"missing label\(s\) \['Rods & rings'\]"): predict_cli(out=str(o), path=str(ds), thresholds=str(tmp_path/'th27.json'))
    (tmp_path/'th2.json').write_text(json.dumps({**{l: .5 for l in LABELS}, 'Nucleoli': 2}))
    with pytest.raises(HPADataError, match=r'outside \[0, 1\] for Nucleoli \(2'): predict_cli(out=str(o), path=str(ds), thresholds=str(tmp_path/'th2.json'))
    # missing test images: all of them listed; Ids of the sample without images
    img_file(ds/'test', 'test3', 'yellow').unlink(); img_file(ds/'test', 'test5', 'red').unlink()
    s = pd.read_csv(ds/'sample_submission.csv', dtype=str)
    pd.concat([s, pd.DataFrame({'Id': ['ghost'], 'Predicted': ['0']})]).to_csv(ds/'sample_submission.csv', index=False)
    with pytest.raises(HPADataError) as e: predict_cli(out=str(o), path=str(ds))
    msg = str(e.value)
    assert '3 of 8 test Id(s) lack images' in msg and 'Id test5: missing test5_red.png' in msg
    assert 'Id test3: missing test3_yellow.png' in msg and 'Id ghost: no images' in msg
    assert _files(o) == ['export.pkl']
    # an unwritable destination (a file where the folder should be)
    s.to_csv(ds/'sample_submission.csv', index=False)
    for c in CHANNELS: shutil.copy(img_file(path/'test', 'test0', c), img_file(ds/'test', 'test3', c)); shutil.copy(img_file(path/'test', 'test0', c), img_file(ds/'test', 'test5', c))
    (tmp_path/'afile').write_text('x')
    with pytest.raises(HPADataError, match='afile: cannot write results here'): predict_cli(out=str(tmp_path/'afile'), path=str(ds))

def test_thresholds_cli_bad_preds(tmp_path):
    "NaN in valid_preds.npz: one error naming the file and row, no thresholds.json."
    probs, y = sim_preds(50, seed=1); probs[7, 3] = np.nan
    np.savez(tmp_path/'valid_preds.npz', ids=np.arange(50).astype(str), probs=probs, y=y)
    with pytest.raises(HPADataError, match=r'valid_preds.npz probs: 1 row\(s\) with NaN.*rows \[7\]'): thresholds_cli(out=str(tmp_path))
    assert _files(tmp_path) == ['valid_preds.npz']
