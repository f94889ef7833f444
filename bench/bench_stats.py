"""Channel statistics against the raw PNG decode rate, and at the training size (PNGs resized, or a uint8 cache), measured in one run.

usage: python bench/bench_stats.py [--path DATASET] [--folder train] [--n_ids 120] [--rounds 6] [--sizes 64,128]
Default data: the configured dataset (hpa_path(): the synthetic one unless HPA_PATH is set). For a folder of
real PNGs, e.g. DATA/train_sample: --path DATA --folder train_sample.
Rounds interleave the measurements and keep the best of each, because the machine is shared.
The second table: `channel_stats(path, ids, size=S)` (each PNG decoded, then resized) and
`channel_stats(path, ids, size=S, cache=...)` (the rows of a `build_cache` cache at S, built once beforehand and
not timed) against full size, in one process, as images/s of CPU time and the speed-up over full size.
"""
import argparse, time, tempfile, shutil
from pathlib import Path
from hpa_protein.data import hpa_path
from hpa_protein.core import opencv, default_workers
from hpa_protein.stats import channel_stats, stats_files
from hpa_protein.loaders import build_cache
cv2 = opencv()

def decode_all(files):
    for f in files:
        img = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        assert img is not None, f

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--path', default=None); p.add_argument('--folder', default='train')
    p.add_argument('--n_ids', type=int, default=120); p.add_argument('--rounds', type=int, default=6)
    p.add_argument('--sizes', default='64,128', help='training sizes to compare with full size')
    a = p.parse_args()
    path = hpa_path(a.path)
    allf = stats_files(path/a.folder)
    ids = sorted({f.name[:-4].rsplit('_', 1)[0] for fs in allf.values() for f in fs})[:a.n_ids]
    files = [f for f in (f for fs in stats_files(path/a.folder, ids, allow_missing=True).values() for f in fs)]
    n = len(files)
    print(f'{path/a.folder}: {n} files of {len(ids)} Ids; {default_workers()} workers; best of {a.rounds} rounds')
    decode_all(files)  # warm the page cache
    # CPU time of this process (immune to other users of the cores) and wall time, interleaved rounds
    res = {k: [] for k in ('dec_cpu', 'one_cpu', 'dec_wall', 'one_wall', 'all_wall')}
    def dec():
        w, c = time.perf_counter(), time.process_time(); decode_all(files)
        res['dec_wall'].append(time.perf_counter() - w); res['dec_cpu'].append(time.process_time() - c)
    def one():
        w, c = time.perf_counter(), time.process_time()
        channel_stats(path, ids, a.folder, n_workers=1, allow_missing=True, show=False)
        res['one_wall'].append(time.perf_counter() - w); res['one_cpu'].append(time.process_time() - c)
    for i in range(a.rounds):
        for f in ((dec, one) if i % 2 == 0 else (one, dec)): f()  # alternate the order
        w = time.perf_counter(); channel_stats(path, ids, a.folder, allow_missing=True, show=False)
        res['all_wall'].append(time.perf_counter() - w)
    r = {k: n / min(v) for k, v in res.items()}
    ratios = sorted(d / o for d, o in zip(res['dec_cpu'], res['one_cpu']))
    print(f'raw decode (cv2.imread), 1 process : {r["dec_cpu"]:7.1f} files/s per core (CPU time), {r["dec_wall"]:7.1f} wall')
    print(f'channel_stats, 1 process           : {r["one_cpu"]:7.1f} files/s per core (CPU time), {r["one_wall"]:7.1f} wall')
    print(f'ratio stats/decode per core        : {r["one_cpu"] / r["dec_cpu"]:.3f} (best-of), median of rounds {ratios[len(ratios) // 2]:.3f}; wall {r["one_wall"] / r["dec_wall"]:.3f}')
    print(f'channel_stats, {default_workers()} processes         : {r["all_wall"]:7.1f} files/s wall, {r["all_wall"] / r["one_wall"]:.2f}x one process')
    at_size(path, a.folder, ids, [int(x) for x in a.sizes.split(',')], a.rounds)

def at_size(path, folder, ids, sizes, rounds):
    "Images/s (CPU time, one process) of the statistics at full size, at each size from the PNGs, and from a cache."
    tmp = Path(tempfile.mkdtemp())
    try:
        caches = {s: build_cache(path, ids, s, tmp, folder, show=False) for s in sizes}
        jobs = {'full size, PNGs': dict(size=None)}
        for s in sizes: jobs[f'{s} px, PNGs resized'] = dict(size=s); jobs[f'{s} px, cache'] = dict(size=s, cache=caches[s])
        res = {k: [] for k in jobs}
        for _ in range(rounds):
            for k, kw in jobs.items():
                c = time.process_time(); channel_stats(path, ids, folder, n_workers=1, show=False, **kw)
                res[k].append(time.process_time() - c)
        base = min(res['full size, PNGs'])
        print(f'\nat the training size ({len(ids)} images, 1 process, CPU time, best of {rounds}):')
        for k, v in res.items(): print(f'  {k:22s}: {len(ids)/min(v):9.1f} images/s, {base/min(v):6.1f}x full size')
    finally: shutil.rmtree(tmp)

if __name__ == '__main__': main()
