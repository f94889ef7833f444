"""A timm backbone through the whole path: the Learner's groups and freezing, a training run from a weights file with
the blog's frozen phase, its export loaded in a fresh process that predicts a test loader, Grad-CAM on it, and
`hpa_train --arch` from the command line. timm models are built without downloaded weights: the weights file is a
state dict of a freshly initialised timm model, saved by the test (the shape of ImageNet weights, not their values).
"""
import os, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from conftest import tiny_dataset

timm = pytest.importorskip('timm')
ARCH = 'efficientnet_b0'
BIN = Path(sys.executable).parent

@pytest.fixture(scope='module')
def ds(tmp_path_factory):
    ids = [f'id{i:02d}' for i in range(32)]
    d = tiny_dataset(tmp_path_factory.mktemp('bb')/'ds', ids, [str(i % 5) for i in range(32)], ['t0', 't1', 't2'], size=32)
    pd.read_csv(d/'train.csv', dtype=str).assign(is_valid=[i % 4 == 0 for i in range(32)]).to_csv(d/'split.csv', index=False)
    return d

def test_groups_and_freezing(ds):
    from hpa_protein.loaders import hpa_dls
    from hpa_protein.model import hpa_learner
    learn = hpa_learner(hpa_dls(ds, ds/'split.csv', size=32, bs=8, num_workers=0, device='cpu'), ARCH, path=ds.parent, log=True)
    body, head = learn.model
    assert len(learn.splitter(learn.model)) == 3
    learn.freeze()
    bn = {id(p) for m in body.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for p in m.parameters()}
    trainable = {id(p) for p in learn.model.parameters() if p.requires_grad}
    new = {id(body.conv_stem.weight)} | {id(p) for p in head.parameters()}
    assert trainable == new | bn      # frozen: the first convolution and the head (and the BatchNorm layers, fastai's train_bn)
    learn.unfreeze(); learn.create_opt(); learn.opt.set_hyper('lr', slice(1e-5, 1e-3))
    np.testing.assert_allclose([h['lr'] for h in learn.opt.hypers], [1e-5, 1e-4, 1e-3])

def test_train_export_predict_cam(ds, tmp_path):
    from hpa_protein.model import train
    src = timm.create_model(ARCH, pretrained=False)
    torch.save(src.state_dict(), tmp_path/f'{ARCH}.pth')
    out = tmp_path/'out'
    learn = train(ds, out, ds/'split.csv', size=32, bs=8, arch=ARCH, weights=tmp_path/f'{ARCH}.pth', epochs=1, lr=3e-3,
                  num_workers=0, threads=1, tta=2, show=False)
    w = learn.model[0].conv_stem.weight.detach()
    assert w.shape[1] == 4
    hist = [l for l in (out/'history.jsonl').read_text().splitlines()]
    assert len(hist) == 2   # the frozen epoch of pretrained weights, then the unfrozen one
    code = f'''
import sys, warnings; warnings.filterwarnings('ignore')
from fastai.learner import load_learner
from hpa_protein.loaders import hpa_test_dl
learn = load_learner({str(out/'export.pkl')!r})
assert 'timm' in learn.versions, learn.versions
p = learn.get_preds(dl=hpa_test_dl(learn.dls, {str(ds)!r}, num_workers=0))[0]
print(tuple(p.shape), float(p.min()) >= 0, float(p.max()) <= 1)
'''
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.split() == ['(3,', '28)', 'True', 'True'], r.stderr[-3000:]
    pytest.importorskip('captum')
    from hpa_protein.gradcam import grad_cam
    cam = grad_cam(learn.model.cpu().eval(), torch.randn(2, 4, 32, 32), 3)
    assert cam.shape[0] == 2 and torch.isfinite(cam).all()

def _cli(*args, cwd):
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}; env.pop('HPA_TRACEBACK', None)
    return subprocess.run([str(BIN/'hpa_train'), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)

def test_hpa_train_arch_from_the_command_line(ds, tmp_path):
    r = _cli('--path', ds, '--out', tmp_path/'o', '--split', ds/'split.csv', '--arch', 'convnext_atto', '--size', '32', '--bs', '8',
             '--epochs', '1', '--weights', 'none', '--num_workers', '0', '--threads', '1', cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path/'o'/'export.pkl').exists() and 'unfrozen epoch 1/1' in r.stdout
    r = _cli('--path', ds, '--out', tmp_path/'bad', '--arch', 'densnet121', cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count('\n') == 1, r.stderr
    assert "hpa_train: 'densnet121': neither a torchvision ResNet" in r.stderr and "timm.list_models('*densnet*')" in r.stderr
    assert not (tmp_path/'bad').exists()   # refused before anything is written
