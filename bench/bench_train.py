"""Per-step time of the fastai training loop (hpa_learner: callbacks, fastai Adam, focal loss, metric) vs a bare
PyTorch loop (torch.optim.Adam, same model, loss and batch), measured in one run, interleaved.

Times are CPU seconds of this process (other jobs share this CPU).
usage: python bench/bench_train.py [--arch resnet34] [--size 128] [--bs 16] [--steps 10] [--bf16] [--threads 1]
"""
import argparse, time, warnings
warnings.filterwarnings('ignore')
import numpy as np, torch
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.callback.progress import ProgressCallback
from hpa_protein.model import hpa_model, hpa_learner, FocalLoss

p = argparse.ArgumentParser()
p.add_argument('--arch', default='resnet34'); p.add_argument('--size', type=int, default=128)
p.add_argument('--bs', type=int, default=16); p.add_argument('--steps', type=int, default=10)
p.add_argument('--rounds', type=int, default=3); p.add_argument('--bf16', action='store_true')
p.add_argument('--threads', type=int, default=1, help='torch threads (1: robust on a CPU shared with other jobs)')
a = p.parse_args()
torch.set_num_threads(a.threads)

torch.manual_seed(0)
xb, yb = torch.randn(a.bs, 4, a.size, a.size), (torch.rand(a.bs, 28) < 0.1).float()

class Fixed(torch.utils.data.Dataset):  # the same batch `steps` times: no data loading in either loop
    def __len__(self): return a.steps
    def __getitem__(self, i): return xb, yb
dl = DataLoader(Fixed(), bs=None, device='cpu')
dls = DataLoaders(dl, DataLoader(Fixed(), bs=None, device='cpu', n=1), device='cpu')
learn = hpa_learner(dls, a.arch, log=False, cpu_bf16=a.bf16, prior=False)  # fit writes nothing; no labels to start the output at
learn.remove_cb(ProgressCallback)
learn.logger = lambda *args: None

def fastai_steps():
    learn.fit(1, 1e-4)  # one epoch = `steps` training batches + 1 validation batch
    return learn.recorder  # not used

model = hpa_model(a.arch); model.train()
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
loss_func = FocalLoss()
def bare_steps():
    for _ in range(a.steps):
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
            loss = loss_func(model(xb).float(), yb)
        loss.backward(); opt.step(); opt.zero_grad()

def timed(f):  # CPU seconds of this process: robust to other jobs taking the cores
    t = time.process_time(); f(); return time.process_time() - t

# warm up both (oneDNN primitive creation), then alternate so that load from other users hits both alike
for f in (bare_steps, fastai_steps): timed(f)
tb, tf = [], []
for r in range(a.rounds):
    tb.append(timed(bare_steps)); tf.append(timed(fastai_steps))
# the fastai epoch also runs one validation batch: time it alone and subtract
vt = np.median([timed(lambda: learn.validate()) for _ in range(2)])
b, f = np.median(tb)/a.steps, (np.median(tf) - vt)/a.steps
print(f'{a.arch} {a.size}px bs {a.bs} bf16={a.bf16} threads={torch.get_num_threads()}: '
      f'bare PyTorch {b:.3f} CPU-s/step, fastai {f:.3f} CPU-s/step (validation batch {vt:.2f}s subtracted)')
print(f'ratio fastai/bare = {f/b:.3f} (target <= 1.10); rounds bare {np.round(tb,2).tolist()} fastai {np.round(tf,2).tolist()}')
