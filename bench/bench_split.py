"""Speed and quality of the stratified splits on the real label table (31,072 x 28).

usage: python bench/bench_split.py [--csv tests/fixtures/hpa_real/train.csv] [--repeat 3]
Each timing is the best of `--repeat` runs (the machine is shared; best-of is the least noisy figure).
"""
import argparse, time, warnings
from pathlib import Path
import numpy as np
from hpa_protein.data import read_labels, to_multihot
from hpa_protein.split import split, kfold, split_quality, iterative_stratification, label_combos

def best(f, n):
    "Best wall time and best CPU time of this process (immune to other users of the cores) over `n` runs."
    ts, cs = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time(); res = f()
        ts.append(time.perf_counter() - t0); cs.append(time.process_time() - c0)
    return min(ts), min(cs), res

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--csv', default=str(Path(__file__).parent.parent/'tests/fixtures/hpa_real/train.csv'))
    p.add_argument('--repeat', type=int, default=3)
    a = p.parse_args()
    df = read_labels(a.csv)
    print(f'{a.csv}: {len(df):,} rows x 28 labels; best of {a.repeat} runs')
    rnd = df.assign(is_valid=np.random.default_rng(42).permutation(len(df)) < int(0.2 * len(df)))
    rows = [('random 80/20', 0.0, 0.0, rnd)]
    for name, f in [('split (iterstrat, order 1)', lambda: split(df)),
                    ('split order=2 (own numpy)', lambda: split(df, order=2)),
                    ('own order 1 (same algorithm)', lambda: df.assign(
                        is_valid=iterative_stratification(label_combos(to_multihot(df.Target)), [0.8, 0.2]) == 1)),
                    ('kfold 5 (iterstrat)', lambda: kfold(df)),
                    ('kfold 5 order=2', lambda: kfold(df, order=2))]:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore'); t, c, res = best(f, a.repeat)
        rows.append((name, t, c, res))
    print(f'{"method":30s} {"wall s":>7s} {"CPU s":>6s} | labels: {"max_dev":>7s} {"mean_dev":>8s} | pairs: {"mean_dev":>8s} {"mean_err":>8s}')
    for name, t, c, res in rows:
        q1, q2 = split_quality(res), split_quality(res, 2)
        print(f'{name:30s} {t:7.3f} {c:6.3f} | labels: {q1["max_dev"]:7.3f} {q1["mean_dev"]:8.4f} | pairs: {q2["mean_dev"]:8.3f} {q2["mean_err"]:8.3f}')
    c1 = next(c for n, t, c, _ in rows if n.startswith('split (iterstrat'))
    c2 = next(c for n, t, c, _ in rows if n.startswith('split order=2'))
    e1 = split_quality(rows[1][3], 2)['mean_err']; e2 = split_quality(rows[2][3], 2)['mean_err']
    print(f'order 2 vs iterstrat: pair error {e1 / e2:.1f}x smaller, CPU time ratio {c2 / c1:.2f}')
    print('(k-fold figures are the worst fold)')

if __name__ == '__main__': main()
