"""Training and 8x TTA prediction speed on a GPU: the fastai Learner of `hpa_learner` vs a bare PyTorch loop.

Both sides use the same model (`hpa_model`, ResNet34 by default), the same batch (random 4-channel images at
512 px, already normalised and on the GPU, so that data loading is out of the picture), the same focal loss and
Adam, fp16 mixed precision and channels-last memory format:
- fastai: `hpa_learner` on CUDA DataLoaders (fastai's `MixedPrecision` + `ChannelsLast` callbacks, `learn.fit`),
  and `predict_probs(learn, dl, tta=8)` (fp16 autocast) for prediction;
- bare: `torch.autocast('cuda', torch.float16)` + `torch.amp.GradScaler`, a channels-last model and a plain loop.
It prints images/s (training steps, and images predicted under 8 transforms) and the peak GPU memory of each.
With `--loader` it also times the real input pipeline (`hpa_dls` on the synthetic dataset through a uint8 cache,
pinned memory and non-blocking copies) feeding the fastai Learner.

usage: python bench/bench_gpu.py [--arch resnet34] [--size 512] [--bs 32] [--steps 20] [--loader]
       python bench/bench_gpu.py --device cpu --size 64 --bs 4 --steps 2   # smoke test of the script on a CPU
"""
import argparse, sys, time, warnings
warnings.filterwarnings('ignore')
import numpy as np, torch

p = argparse.ArgumentParser()
p.add_argument('--arch', default='resnet34'); p.add_argument('--size', type=int, default=512)
p.add_argument('--bs', type=int, default=32); p.add_argument('--steps', type=int, default=20)
p.add_argument('--warmup', type=int, default=3); p.add_argument('--tta', type=int, default=8)
p.add_argument('--loader', action='store_true', help='also time hpa_dls on the synthetic dataset (through a cache)')
p.add_argument('--device', default='cuda', help="'cuda' (the benchmark) or 'cpu' (only checks that the script runs)")
a = p.parse_args()
if a.device == 'cuda' and not torch.cuda.is_available():
    sys.exit('bench_gpu: no CUDA GPU visible to torch (torch.cuda.is_available() is False); nothing to measure. '
             'Run it on a machine with a GPU, or with --device cpu only to check the script.')
dev = torch.device(a.device)
cuda = dev.type == 'cuda'

from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.callback.progress import ProgressCallback
from hpa_protein.model import hpa_model, hpa_learner, FocalLoss
from hpa_protein.predict import predict_probs, dihedral

def sync():
    if cuda: torch.cuda.synchronize()
def peak_reset():
    if cuda: torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
def peak_gb(): return torch.cuda.max_memory_allocated()/2**30 if cuda else float('nan')
def timed(f):
    sync(); t = time.perf_counter(); f(); sync(); return time.perf_counter() - t

torch.manual_seed(0)
xb = torch.randn(a.bs, 4, a.size, a.size, device=dev)
yb = (torch.rand(a.bs, 28, device=dev) < 0.1).float()

class Fixed(torch.utils.data.Dataset):  # the same batch `n` times: no data loading on either side
    def __init__(self, n): self.n = n
    def __len__(self): return self.n
    def __getitem__(self, i): return xb, yb

def fastai_learner(n):
    dls = DataLoaders(DataLoader(Fixed(n), bs=None, device=dev), DataLoader(Fixed(1), bs=None, device=dev), device=dev)
    learn = hpa_learner(dls, a.arch, log=False, path='.', prior=False)  # random labels: no priors to start from
    learn.remove_cb(ProgressCallback); learn.logger = lambda *args: None
    return learn

res = {}
# --- fastai: training
peak_reset()
learn = fastai_learner(a.warmup); learn.fit(1, 1e-4)              # warm-up (cuDNN autotuning, allocator)
learn.dls.train.dataset.n = learn.dls.train.n = a.steps
t_fit = timed(lambda: learn.fit(1, 1e-4))                         # `steps` training batches + 1 validation batch
t_val = np.median([timed(lambda: learn.validate()) for _ in range(2)])
res['fastai train'] = (a.bs*a.steps/(t_fit - t_val), peak_gb())
cbs = sorted(type(c).__name__ for c in learn.cbs)
# --- fastai: prediction with TTA
dl_pred = [(xb,)]*max(1, a.steps//4)
peak_reset(); predict_probs(learn, dl_pred[:1], tta=a.tta, show=False)
t = timed(lambda: predict_probs(learn, dl_pred, tta=a.tta, show=False))
res[f'fastai predict x{a.tta}'] = (a.bs*len(dl_pred)/t, peak_gb())
learn = None; peak_reset()  # freed before the bare side (not `del`: the lambdas above name it)

# --- bare PyTorch: AMP + channels_last
model = hpa_model(a.arch).to(dev).to(memory_format=torch.channels_last).train()
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
scaler = torch.amp.GradScaler(dev.type, enabled=cuda)
loss_func = FocalLoss()
xcl = xb.contiguous(memory_format=torch.channels_last)
def bare_steps(n):
    for _ in range(n):
        with torch.autocast(dev.type, dtype=torch.float16, enabled=cuda):
            loss = loss_func(model(xcl).float(), yb)
        scaler.scale(loss).backward(); scaler.step(opt); scaler.update(); opt.zero_grad(set_to_none=True)
bare_steps(a.warmup)
t = timed(lambda: bare_steps(a.steps))
res['bare train'] = (a.bs*a.steps/t, peak_gb())
def bare_predict():
    model.eval()
    with torch.no_grad(), torch.autocast(dev.type, dtype=torch.float16, enabled=cuda):
        for (x,) in dl_pred:
            torch.stack([torch.sigmoid(model(dihedral(x, k).contiguous(memory_format=torch.channels_last)).float())
                         for k in range(a.tta)]).mean(0).cpu()
    model.train()
peak_reset(); bare_predict()
t = timed(bare_predict)
res[f'bare predict x{a.tta}'] = (a.bs*len(dl_pred)/t, peak_gb())
model = opt = None  # freed (not `del`: the functions above name them)

# --- optional: the real input pipeline feeding the fastai Learner
if a.loader:
    import tempfile, shutil
    from hpa_protein.data import hpa_path, read_labels
    from hpa_protein.loaders import hpa_dls
    path = hpa_path(); df = read_labels(path)
    n = min(len(df), a.bs*(a.steps + 1))
    df = df.head(n + a.bs).assign(is_valid=[False]*n + [True]*a.bs)
    tmp = tempfile.mkdtemp()
    dls = hpa_dls(path, df, size=a.size, bs=a.bs, cache=tmp, device=dev, show=False)
    ll = hpa_learner(dls, a.arch, log=False, path=tmp)
    ll.remove_cb(ProgressCallback); ll.logger = lambda *args: None
    ll.fit(1, 1e-4)
    peak_reset()
    t = timed(lambda: ll.fit(1, 1e-4)) - np.median([timed(lambda: ll.validate()) for _ in range(2)])
    res['fastai train, hpa_dls from cache'] = (len(dls.train)*a.bs/t, peak_gb())
    shutil.rmtree(tmp)

name = torch.cuda.get_device_name() if cuda else 'CPU (smoke test, not a measurement)'
print(f'{name}; torch {torch.__version__}; {a.arch} {a.size}px, batch {a.bs}, {a.steps} steps, fp16 autocast, channels_last')
print(f'fastai Learner callbacks: {", ".join(cbs)}')
print(f'  {"":34s} {"images/s":>10s} {"peak GPU GB":>12s}')
for k, (r, m) in res.items(): print(f'  {k:34s} {r:10.1f} {m:12.2f}')
print(f'fastai/bare: training {res["fastai train"][0]/res["bare train"][0]:.3f}, '
      f'prediction {res[f"fastai predict x{a.tta}"][0]/res[f"bare predict x{a.tta}"][0]:.3f} (images/s ratios)')
