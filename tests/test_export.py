"""The exported Learner of `train` is relocatable and speaks fastai.

A tiny model is trained (ResNet18, 32 px, through a uint8 cache) and exported; then the export and the test images
are copied to another folder, the training dataset and the training outputs (cache included) are deleted, and a
fresh Python process loads the Learner with fastai's `load_learner` and predicts through fastai's own API: paths
(`folder/Id` and `folder/Id_green.png`), Ids with `folder=`, and `learn.predict`. Its probabilities must equal
those `hpa_predict --tta 1` writes for the same images; the export must carry no training-only callback and no
path of the training machine, and warn when it was exported with other package versions.
"""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch

from conftest import tiny_dataset

SCRIPT = r'''
import json, sys, warnings
from pathlib import Path
import numpy as np, torch
from fastai.learner import load_learner
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    learn = load_learner(sys.argv[1], cpu=True)
out = dict(warnings=[str(x.message) for x in w if 'exported with' in str(x.message)])
if len(sys.argv) > 2:
    folder, ids = Path(sys.argv[2]), sys.argv[3].split(',')
    preds = lambda items, **kw: learn.get_preds(dl=learn.dls.test_dl(items, **kw))[0].numpy()
    np.savez('fastai_probs.npz', paths=preds([folder/i for i in ids]),
             green=preds([str(folder/f'{i}_green.png') for i in ids]), ids=preds(ids, folder=folder),
             one=learn.predict(folder/ids[0])[2].numpy())
    try: learn.dls.test_dl(ids).one_batch(); out['bare_ids'] = 'read'
    except Exception as e: out['bare_ids'] = str(e)
    out['cbs'] = sorted(type(c).__name__ for c in learn.cbs)
    out['path'] = str(learn.path)
    learn.export('again.pkl')
    out['versions'] = learn.versions
print(json.dumps(out))
'''

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "Train and export on a 'training machine' folder; return the export's bytes and the test images, then delete it all."
    from hpa_protein.model import train
    root = tmp_path_factory.mktemp('training_machine')
    ds, out = root/'dataset', root/'outputs'
    ids = [f'tr{i:02d}' for i in range(24)]
    test_ids = [f'te-{i}' for i in range(5)]
    tiny_dataset(ds, ids, [str(i % 5) for i in range(24)], test_ids, size=40)
    split = pd.DataFrame({'Id': ids, 'Target': [str(i % 5) for i in range(24)], 'is_valid': [i % 4 == 0 for i in range(24)]})
    train(ds, out, split, size=32, bs=8, arch='resnet18', epochs=1, lr=3e-3, cache=out/'cache', num_workers=0,
          threads=1, seed=0, show=False)
    blob = (out/'export.pkl').read_bytes()
    tests = {p.name: p.read_bytes() for p in (ds/'test').iterdir()}
    shutil.rmtree(root)  # no training data, no cache, no outputs left
    return blob, tests, test_ids, str(root)

def _fresh(*args, cwd):
    r = subprocess.run([sys.executable, '-c', SCRIPT, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                       env={**os.environ, 'PYTHONWARNINGS': 'ignore'}, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

def test_relocated_export(trained, tmp_path):
    blob, tests, test_ids, root = trained
    assert not Path(root).exists()
    assert Path(root).name.encode() not in blob, 'the export carries a path of the training machine'  # (pickled Paths are split in parts)
    # another machine: the export in one folder, the test images (Kaggle layout) in another
    (tmp_path/'model').mkdir(); (tmp_path/'model'/'export.pkl').write_bytes(blob)
    imgs = tmp_path/'input'/'test'; imgs.mkdir(parents=True)
    for n, b in tests.items(): (imgs/n).write_bytes(b)
    order = test_ids[::-1]
    pd.DataFrame({'Id': order, 'Predicted': '0'}).to_csv(tmp_path/'input'/'sample_submission.csv', index=False)
    work = tmp_path/'work'; work.mkdir()

    res = _fresh(tmp_path/'model'/'export.pkl', imgs, ','.join(order), cwd=work)
    assert res['warnings'] == []
    assert res['cbs'] == ['CastToTensor', 'InferenceAutocast', 'Recorder', 'TrainEvalCallback'], res['cbs']
    assert 'knows no image folder' in res['bare_ids'] and 'folder=' in res['bare_ids']
    assert res['path'] == '.' and (work/'again.pkl').exists()  # a loaded Learner writes into the working directory
    import fastai, hpa_protein
    assert res['versions'] == dict(hpa_protein=hpa_protein.__version__, fastai=fastai.__version__, torch=torch.__version__)

    p = np.load(work/'fastai_probs.npz')
    assert p['paths'].shape == (5, 28)
    np.testing.assert_allclose(p['green'], p['paths'], atol=1e-6)
    np.testing.assert_allclose(p['ids'], p['paths'], atol=1e-6)
    np.testing.assert_allclose(p['one'], p['paths'][0], atol=1e-6)

    # hpa_predict, also in a fresh process, on the same images
    out = tmp_path/'pred'; out.mkdir(); shutil.copy(tmp_path/'model'/'export.pkl', out)
    r = subprocess.run(['hpa_predict', '--out', str(out), '--path', str(tmp_path/'input'), '--tta', '1'],
                       capture_output=True, text=True, cwd=work)
    assert r.returncode == 0, r.stderr[-3000:]
    z = np.load(out/'test_probs.npz')
    assert list(z['ids']) == order
    np.testing.assert_allclose(p['paths'], z['probs'], atol=1e-6)
    assert len(set(np.round(p['paths'][:, 0], 6))) > 1  # the images differ, and so do the predictions

def test_version_mismatch_warns(trained, tmp_path):
    "A Learner exported with other versions loads, with one warning naming them."
    import cloudpickle
    blob, *_ = trained
    (tmp_path/'export.pkl').write_bytes(blob)
    learn = torch.load(tmp_path/'export.pkl', weights_only=False)
    learn.versions = {**learn.versions, 'fastai': '2.0.0', 'torch': '1.13.0'}
    torch.save(learn, tmp_path/'old.pkl', pickle_module=cloudpickle, pickle_protocol=2)
    res = _fresh(tmp_path/'old.pkl', cwd=tmp_path)
    import fastai
    assert res['warnings'] == [f'this Learner was exported with fastai 2.0.0, torch 1.13.0; this is fastai '
                               f'{fastai.__version__}, torch {torch.__version__}: predictions may differ']

OLD = Path(__file__).resolve().parent/'fixtures'/'old_export'

@pytest.mark.parametrize('norm', ['stats', 'image'])
def test_export_of_an_earlier_version_loads(norm, tmp_path):
    "An export written before the library was recomposed (tests/fixtures/old_export) loads in a fresh process and predicts."
    code = f'''
import warnings; warnings.filterwarnings('ignore')
from fastai.learner import load_learner
from hpa_protein.loaders import hpa_test_dl
learn = load_learner({str(OLD/f'export_{norm}.pkl')!r})
p = learn.get_preds(dl=hpa_test_dl(learn.dls, {str(OLD/'ds')!r}, num_workers=0))[0]
print(type(learn).__module__, type(learn.loss_func).__module__, learn.splitter.__module__, tuple(p.shape))
'''
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ['hpa_protein.callbacks', 'hpa_protein.model', 'hpa_protein.model', '(1,', '28)'], r.stdout
