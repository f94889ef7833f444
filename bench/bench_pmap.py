"""`data.pmap` against fastcore's `parallel` on two loops of the pipeline: the PNG checks of `validate` and decoding.

usage: python bench/bench_pmap.py [--path DATASET] [--n 480] [--workers 2] [--rounds 2]
Default data: the configured dataset (hpa_path(): the synthetic one unless HPA_PATH is set). Same function, same
arguments, same chunk size, same number of processes; both results are checked equal. Rounds interleave the two.
"""
import argparse, time
from functools import partial
from fastcore.parallel import parallel
from hpa_protein.data import hpa_path, read_labels, read_sample, _check_id
from hpa_protein.core import pmap

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--path', default=None); p.add_argument('--n', type=int, default=480)
    p.add_argument('--workers', type=int, default=2); p.add_argument('--rounds', type=int, default=2)
    a = p.parse_args()
    path = hpa_path(a.path); folder = path/'train'
    ids = read_labels(path).Id.tolist()[:a.n]
    loops = [('check_png (validate)', _check_id, [(folder, i, None) for i in ids], 16),
             ('decode at 128 px', partial(read_sample, folder, size=128), ids, 8)]
    print(f'{path}: {len(ids)} images, {a.workers} processes')
    for name, f, args, cs in loops:
        for _ in range(a.rounds):
            t = time.perf_counter(); r1 = list(pmap(f, args, a.workers, show=False, chunksize=cs)); t1 = time.perf_counter() - t
            t = time.perf_counter(); r2 = list(parallel(f, args, n_workers=a.workers, chunksize=cs)); t2 = time.perf_counter() - t
            assert all(str(x) == str(y) if isinstance(x, list) else (x == y).all() for x, y in zip(r1, r2))
            print(f'  {name:22s} pmap {t1:5.2f}s   fastcore.parallel {t2:5.2f}s', flush=True)

if __name__ == '__main__': main()
