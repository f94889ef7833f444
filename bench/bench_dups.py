"""Benchmark of hpa_protein.dups: hashing speed and grouping time.

    python bench/bench_dups.py [--n 30000] [--n_img 300]

Prints hashes/s (decode + pHash of 512² PNGs, one process; and pHash alone on in-memory images), and the
time to find the close pairs of N random 64-bit hashes (with planted near copies) by multi-index hashing
vs. the all-pairs vectorised popcount, with their ratio (both measured in this run: the machine is shared).
"""
import argparse, tempfile, time, shutil
from pathlib import Path
import numpy as np
from hpa_protein.data import write_png
from hpa_protein.dups import phash, hash_files, close_pairs, close_pairs_brute, group_hashes

def best(f, n=3):
    "Smallest wall time of `n` runs of `f()`, and its result."
    ts = []
    for _ in range(n):
        t = time.perf_counter(); r = f(); ts.append(time.perf_counter() - t)
    return min(ts), r

def main(n=30000, n_img=300, max_dist=4, seed=0):
    rng = np.random.default_rng(seed)
    # hashing: 512² uint8 images, smooth-ish so that PNG compression is realistic
    base = rng.integers(0, 60, (8, 64, 64), dtype=np.uint8).repeat(8, 1).repeat(8, 2)
    imgs = [np.clip(base[i % 8].astype(int) + rng.integers(0, 20, (512, 512)), 0, 255).astype(np.uint8) for i in range(n_img)]
    t_mem, _ = best(lambda: [phash(im) for im in imgs], 2)
    tmp = Path(tempfile.mkdtemp())
    try:
        fns = [tmp/f'{i}_blue.png' for i in range(n_img)]
        for im, fn in zip(imgs, fns): write_png(im, fn)
        t_file, _ = best(lambda: hash_files(fns, n_workers=1, show=False), 2)
    finally: shutil.rmtree(tmp)
    print(f'pHash of in-memory 512² images: {n_img/t_mem:8.0f} hashes/s (one process)')
    print(f'PNG decode + pHash (512²):      {n_img/t_file:8.0f} hashes/s (one process; decoding is {1 - t_mem/t_file:.0%} of it)')

    # grouping: N random hashes, 1% of them near copies (1..max_dist bits flipped) of others
    h = rng.integers(0, 2**62, n, dtype=np.int64).astype(np.uint64) << np.uint64(2)
    h |= rng.integers(0, 4, n).astype(np.uint64)
    k = n // 100
    flips = np.array([sum(1 << int(b) for b in rng.choice(64, d, replace=False)) for d in rng.integers(1, max_dist+1, k)], np.uint64)
    h[-k:] = h[:k] ^ flips
    u = np.unique(h)
    t_mih, p_mih = best(lambda: close_pairs(u, max_dist))
    t_bru, p_bru = best(lambda: close_pairs_brute(u, max_dist), 1)
    t_grp, g = best(lambda: group_hashes(h, max_dist))
    assert np.array_equal(np.stack(p_mih), np.stack(p_bru)), 'multi-index hashing and all pairs disagree'
    print(f'close pairs of N={n} hashes (max_dist={max_dist}, {len(p_mih[0])} pairs found, {k} planted):')
    print(f'  multi-index hashing: {t_mih*1000:8.1f} ms')
    print(f'  all pairs (popcount):{t_bru*1000:8.1f} ms   ratio all-pairs / MIH: {t_bru/t_mih:.0f}x')
    print(f'  group_hashes (unique + MIH + connected components): {t_grp*1000:.1f} ms, '
          f'{len(np.unique(g))} groups, {(np.bincount(g) > 1).sum()} with duplicates')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=30000); ap.add_argument('--n_img', type=int, default=300)
    ap.add_argument('--max_dist', type=int, default=4)
    a = ap.parse_args()
    main(a.n, a.n_img, a.max_dist)
