"""Grad-CAM finds what a model learned to see, with either head of `hpa_model`, and `hpa_gradcam` runs from its argv.

A miniature ResNet shaped like `hpa_model` (`Sequential(body, head)`, stride 8) learns whether a 96 px image of noise
holds a bright green blob at a random place; every image also holds the same blob in red. On new image pairs (the
same image without and with the green blob) the peak of each map with the blob lies within the blob's radius plus
one cell of its centre, and each map without it peaks at less than half the peak of its twin. The same network
trained on shuffled labels fails these checks. The notebook nbs/04a_gradcam.ipynb runs the fastai-head case too.
"""
import subprocess, sys
import numpy as np, pandas as pd, pytest, torch, torch.nn as nn, torch.nn.functional as F
from torchvision.models.resnet import BasicBlock
from fastai.vision.learner import create_head
from hpa_protein.data import write_png
from hpa_protein.core import CHANNELS, N_CLASSES, img_file
from hpa_protein.gradcam import grad_cam

SZ, R, LABEL, STRIDE = 96, 5, 7, 8

def gauss(cy, cx):
    yy, xx = np.mgrid[:SZ, :SZ]
    return 3*np.exp(-((yy - cy)**2 + (xx - cx)**2) / (2*(R/2)**2))

def blob_pairs(n, seed):
    "`n` normalised images with a red blob and no green one, the same images with a green blob, and its centres."
    rng = np.random.default_rng(seed)
    x = rng.normal(0, .3, (n, 4, SZ, SZ)).astype(np.float32)
    ctr, dis = rng.integers(R + 2, SZ - R - 2, (2, n, 2))
    for i in range(n): x[i, 0] += gauss(*dis[i])
    pos = x.copy()
    for i in range(n): pos[i, 1] += gauss(*ctr[i])
    return torch.from_numpy(x), torch.from_numpy(pos), torch.from_numpy(ctr)

def tiny_resnet(head):
    def block(ni, nf): return nn.Sequential(BasicBlock(ni, nf, 2, nn.Sequential(nn.Conv2d(ni, nf, 1, 2, bias=False), nn.BatchNorm2d(nf))))
    body = nn.Sequential(nn.Conv2d(4, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), block(16, 32), block(32, 32))
    hd = (create_head(32, N_CLASSES, ps=0.5, concat_pool=True) if head == 'fastai'
          else nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, N_CLASSES)))
    return nn.Sequential(body, hd)

def trained(head, shuffle=False, seed=0, steps=80):
    torch.manual_seed(seed)
    neg, pos, _ = blob_pairs(128, seed)
    x, y = torch.cat([neg, pos]), torch.cat([torch.zeros(len(neg)), torch.ones(len(pos))])
    if shuffle: y = y[torch.randperm(len(y))]
    net = tiny_resnet(head); opt = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(steps):
        i = torch.randint(0, len(x), (32,))
        loss = F.binary_cross_entropy_with_logits(net(x[i])[:, LABEL], y[i]); opt.zero_grad(); loss.backward(); opt.step()
    return net

def check(net, seed=1):
    "Distances of the blob maps' peaks from the blob centres; blob-free peaks over their twins' peaks."
    neg, pos, ctr = blob_pairs(16, 100 + seed)
    cp, cn = grad_cam(net, pos, LABEL, norm=False), grad_cam(net, neg, LABEL, norm=False)
    peak = torch.tensor(np.array([np.unravel_index(int(c.argmax()), c.shape) for c in cp]))
    return (peak - ctr).float().norm(dim=1), cn.flatten(1).amax(1) / cp.flatten(1).amax(1).clamp_min(1e-12)

@pytest.fixture(autouse=True)
def _threads():
    n = torch.get_num_threads(); torch.set_num_threads(1); yield; torch.set_num_threads(n)

@pytest.mark.parametrize('head', ['linear', 'fastai'])
def test_map_peaks_on_the_blob(head):
    dist, ratio = check(trained(head))
    print(f'{head}: peak to centre max {dist.max():.1f} px; blob-free / twin peak max {ratio.max():.2f}')
    assert (dist <= R + STRIDE).all(), dist
    assert (ratio < 0.5).all(), ratio

def test_shuffled_labels_fail_the_check():
    dist, ratio = check(trained('linear', shuffle=True))
    print(f'shuffled: {(dist <= R + STRIDE).sum().item()}/16 peaks on the blob; blob-free / twin peak median {ratio.median():.2f}')
    assert (dist <= R + STRIDE).sum() <= 12 and ratio.median() > 0.5, (dist, ratio)

def test_command_line(tmp_path):
    "The command as a user runs it: labels by name and id, after one --label, repeated and comma-separated."
    from hpa_protein.loaders import hpa_dls
    from hpa_protein.model import hpa_learner, valid_preds
    ds, out = tmp_path/'ds', tmp_path/'out'
    rng = np.random.default_rng(0)
    ids = [f'id{i:02d}' for i in range(16)]
    for i in ids:
        for c in CHANNELS: write_png(rng.integers(0, 255, (64, 64), dtype=np.uint8), img_file(ds/'train', i, c))
    df = pd.DataFrame({'Id': ids, 'Target': [f'{i % 3} 7' for i in range(16)], 'is_valid': [i % 2 == 0 for i in range(16)]})
    df[['Id', 'Target']].to_csv(ds/'train.csv', index=False)
    dls = hpa_dls(ds, df, size=64, bs=4, norm='image', num_workers=0, device='cpu', show=False)
    out.mkdir(); learn = hpa_learner(dls, 'resnet18', path=out, log=True)
    learn.export('export.pkl')
    vp = valid_preds(learn)
    np.savez(out/'valid_preds.npz', ids=np.array(vp['ids'], dtype=str), probs=vp['probs'], y=vp['y'])
    script = tmp_path/'hpa_gradcam'
    script.write_text('from hpa_protein.gradcam import gradcam_cli\ngradcam_cli()\n')
    r = subprocess.run([sys.executable, script, '--out', out, '--path', ds, '--label', 'golgi apparatus', '0',
                        '--label', '1,Golgi apparatus', '--n', '2'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert lines[0].startswith('no ') and 'threshold 0.5 for every label' in lines[0], lines
    assert [l.split(':')[0] for l in lines[1:4]] == ['[1/3] 7 Golgi apparatus', '[2/3] 0 Nucleoplasm', '[3/3] 1 Nuclear membrane'], lines
    assert lines[-1] == f'wrote 3 figure(s) to {out/"figures"/"gradcam"}', lines
    assert sorted(p.name for p in (out/'figures'/'gradcam').iterdir()) == ['00_nucleoplasm.png', '01_nuclear_membrane.png', '07_golgi_apparatus.png']
