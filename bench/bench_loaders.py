"""Throughput of the PNG DataLoader vs raw decoding, and of the cache path vs the PNG path, in one run.

- raw: `read_sample(folder, id, size)` in a plain loop on one core (decode 4 PNGs + resize);
- PNG loader: `hpa_dls(...).train` with its reading threads; items -> collated uint8 batch ("load", what the CPU
  does when the batch transforms run on a GPU) and -> normalised float batch on the CPU ("load+norm"), and
  with the batch augmentations on the CPU ("load+aug");
- cache loader: the same, reading the uint8 memmap cache a batch at a time (one sorted index per batch, the default);
  "cache load, per item" reads it item by item in the threads (`batch_reads=False`), the path before batch reads.
Rates are samples per second of wall time and per CPU-second of this process (all its threads): other jobs
share this CPU, so "per core" is measured as CPU time. Targets: PNG loader >= 0.9x the raw rate per core;
cache >= 20x the PNG loader. The last line is the ratio of the cache path per batch to per item. Phases are interleaved and each rate is the best of its rounds.

usage: python bench/bench_loaders.py [--path DATASET] [--n 160] [--size 256] [--bs 16] [--threads N]
"""
import argparse, os, time, tempfile, shutil, warnings
warnings.filterwarnings('ignore')
from hpa_protein.data import hpa_path, read_labels, read_sample
from hpa_protein.core import default_workers
from hpa_protein.loaders import hpa_dls, build_cache
from hpa_protein.stats import HPA_STATS

p = argparse.ArgumentParser()
p.add_argument('--path', default=None); p.add_argument('--n', type=int, default=160)
p.add_argument('--size', type=int, default=256); p.add_argument('--bs', type=int, default=16)
p.add_argument('--threads', type=int, default=default_workers()); p.add_argument('--rounds', type=int, default=2)
a = p.parse_args()

path = hpa_path(a.path)
df = read_labels(path).head(a.n + a.bs)
df = df.assign(is_valid=[False]*a.n + [True]*a.bs)
ids = df.Id[:a.n].tolist()
n_epoch = a.n // a.bs * a.bs

def rates(f, n):
    w, c = time.perf_counter(), time.process_time(); f()
    return n/(time.perf_counter() - w), n/max(time.process_time() - c, 1e-9)
def raw():
    for i in ids: read_sample(path/'train', i, a.size)
def load(dl): return lambda: [None for b in dl.create_batches(dl.get_idxs())]  # items -> uint8 batches
def full(dl): return lambda: [None for b in dl]                              # ... -> device -> batch tfms

raw()  # warm the page cache: every path then decodes from memory
tmp = tempfile.mkdtemp()
w = time.perf_counter(); build_cache(path, df.Id, a.size, tmp, show=False); t_cache = time.perf_counter() - w
kw = dict(num_workers=a.threads, device='cpu', show=False)
dls = {(src, aug): hpa_dls(path, df, HPA_STATS, a.size, a.bs, cache=tmp if src == 'cache' else None, aug=aug, **kw).train
       for src in ('png', 'cache') for aug in (False, True)}
per_item = hpa_dls(path, df, HPA_STATS, a.size, a.bs, cache=tmp, aug=False, **kw).train
per_item.batch_reads = False

jobs = {'raw': (raw, a.n)}
for src in ('png', 'cache'):
    jobs[f'{src} load'] = (load(dls[src, False]), n_epoch)
    jobs[f'{src} load+norm'] = (full(dls[src, False]), n_epoch)
    jobs[f'{src} load+aug'] = (full(dls[src, True]), n_epoch)
jobs['cache load, per item'] = (load(per_item), n_epoch)
res = {k: [] for k in jobs}
for r in range(a.rounds):
    for k, (f, n) in jobs.items():
        for _ in range(3 if k.startswith('cache') else 1): res[k].append(rates(f, n))
best = {k: (max(x[0] for x in v), max(x[1] for x in v)) for k, v in res.items()}
print(f'{path.name}: {a.n} samples, {a.size}px, bs {a.bs}, {a.threads} reading threads, {os.cpu_count()} cores, '
      f'load average {os.getloadavg()[0]:.1f}')
print(f'  {"":18s} {"samples/s wall":>15s} {"per CPU-second":>15s}')
for k, (wr, cr) in best.items(): print(f'  {k:18s} {wr:15.1f} {cr:15.1f}')
print(f'  cache build: {a.n + a.bs} samples in {t_cache:.1f}s ({(a.n + a.bs)/t_cache:.1f}/s wall)')
r = lambda k: best[k][1]
print(f'PNG loader / raw decode, per core: load {r("png load")/r("raw"):.2f}, load+norm {r("png load+norm")/r("raw"):.2f}, '
      f'load+aug {r("png load+aug")/r("raw"):.2f} (target >= 0.9)')
print(f'wall: PNG loader with {a.threads} threads / raw on 1 core = {best["png load"][0]/best["raw"][0]:.2f}')
print(f'cache / PNG loader, per core: load {r("cache load")/r("png load"):.1f}x, load+norm {r("cache load+norm")/r("png load+norm"):.1f}x, '
      f'load+aug {r("cache load+aug")/r("png load+aug"):.1f}x (target >= 20x)')
print(f'cache load, per batch / per item: {best["cache load"][0]/best["cache load, per item"][0]:.1f}x wall, '
      f'{r("cache load")/r("cache load, per item"):.1f}x per CPU-second')
shutil.rmtree(tmp)
