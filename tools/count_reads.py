"""Count how many times a Run All of each blog notebook reads the dataset's images, per notebook and per cell.

    python tools/count_reads.py --data DATASET_DIR --work WORKDIR [--nbs 00_eda 01_split ...]
                                [-p NAME VALUE ...] [--json FILE]

`DATASET_DIR` is a competition dataset in the Kaggle layout (`train/`, `test/`, `train.csv`, `sample_submission.csv`);
the notebooks find it through `HPA_KAGGLE_ROOT`, set to its parent folder. Each notebook (default: the six of the
series, in order) is copied alone from this repository's `nbs/` into `WORKDIR/run` and executed there by papermill,
so each reads what the earlier ones wrote in `WORKDIR/run/outputs`, as in `tests/test_series.py`. `HOME` and
`HPA_HOME` are `WORKDIR/home` and `WORKDIR/hpa_home`; the traces go to `WORKDIR/trace`.

`-p NAME VALUE` is a papermill parameter for every notebook; `-p NB:NAME VALUE` for notebook `NB` only, e.g. the
small run of the tests:

    -p 03_model:arch resnet18 -p 03_model:size 32 -p 03_model:bs 8 -p 03_model:epochs 1 -p 03_model:tta 2 -p 05_predict:tta 2

How reads are counted: papermill runs under `strace -ff -ttt -y` tracing the open and read system calls, which
follows the kernel and every process and thread it starts (process pools, DataLoader workers, decoding threads),
whichever library opens the file (OpenCV, PIL, numpy, `open`). Counted are the `.png` files under
`DATASET_DIR/train` and `DATASET_DIR/test` (paths as resolved by strace, so relative paths and symlinks count too).
A read is an open after which the thread read at least the file's size from it: a decode. An open that reads less
(a header, or the 4 KB signature check with which `cv2.imread` opens each file before opening it again to decode
it) is only counted among the opens. Passes = reads / the number of PNG files in that folder. Each open is
attributed to the cell that had last started when it happened (papermill's `start_time` of each cell); cell
indices are those of the notebook in `nbs/` (markdown cells counted, the injected parameters cell not).

Not seen: files read by processes that are not descendants of papermill; a file opened in one thread and read in
another (counted as an open only); files smaller than the 4 KB peek of `cv2.imread` (each peek then counts as a
read: use a dataset of real-size PNGs); memory-mapped or io_uring reads. Times are wall-clock under strace (slower
than without). The traces stay in `WORKDIR/trace` (~130 MB for the small run of the tests).
"""
import argparse, bisect, json, os, re, shutil, subprocess, sys, time
from collections import Counter
from datetime import datetime
from pathlib import Path

NBS = Path(__file__).resolve().parent.parent/'nbs'
KEYS = ('train', 'test', 'train opens', 'test opens')
SERIES = ('00_eda', '01_split', '02_stats', '03_model', '04_thresholds', '05_predict')
# with -y, strace names the file of each fd: `1700000000.123456 openat(AT_FDCWD, "x.png", O_RDONLY) = 3</abs/x.png>`
OPEN = re.compile(r'^(?P<t>\d+\.\d+) open(?:at2?)?\(.*\) = \d+<(?P<path>.*\.png)>$')
READ = re.compile(r'^\d+\.\d+ p?readv?\w*\(\d+<(?P<path>.*?\.png)>, .*\) = (?P<n>\d+)$')

def png_opens(trace_dir, prefix) -> list:
    "`[time, resolved path, bytes read]` of every successful open of a PNG in the traces `prefix.*` (one a thread)."
    res = []
    for f in Path(trace_dir).glob(f'{prefix}.*'):
        cur = {}  # path -> its latest open in this thread, which the reads of that path that follow belong to
        for line in f.read_text(errors='replace').splitlines():
            if '.png' not in line: continue
            if m := OPEN.match(line): cur[m['path']] = len(res); res.append([float(m['t']), m['path'], 0])
            elif (m := READ.match(line)) and m['path'] in cur: res[cur[m['path']]][2] += int(m['n'])
    return res

def cell_table(out_nb, stamps) -> tuple:
    "Per cell of the executed notebook: `[(index, first line, Counter)]`, and the index of the failed cell or None."
    import nbformat
    nb, cells, failed, starts = nbformat.read(out_nb, as_version=4), [], None, []
    k = 0
    for c in nb.cells:
        if 'injected-parameters' in c.metadata.get('tags', []): continue
        pm = c.metadata.get('papermill', {})
        line = next((l.strip() for l in c.source.splitlines() if l.strip()), '')[:60]
        if c.cell_type == 'code' and pm.get('start_time'):
            starts.append(datetime.fromisoformat(pm['start_time']).timestamp()); cells.append((k, line, Counter()))
        if pm.get('exception'): failed = k
        k += 1
    before = Counter()  # opens before the first cell: kernel start-up
    for t, split in stamps:
        i = bisect.bisect_right(starts, t) - 1
        (cells[i][2] if i >= 0 else before)[split] += 1
    if before: cells.insert(0, ('start', '(kernel start-up)', before))
    return cells, failed

def run(nb, data, work, params, env) -> dict:
    "Run `nb` under strace in `work/run`; its reads of `data/train` and `data/test`, in total and per cell."
    run_dir, trace = work/'run', work/'trace'
    shutil.copy(NBS/f'{nb}.ipynb', run_dir/f'{nb}.ipynb')
    ps = [a for (k, v) in params if ':' not in k or k.startswith(f'{nb}:') for a in ('-p', k.split(':')[-1], v)]
    calls = 'trace=?open,openat,?openat2,read,pread64,readv,preadv,?preadv2'
    cmd = ['strace', '-ff', '--seccomp-bpf', '-ttt', '-y', '-s', '0', '-e', calls, '-o', str(trace/nb),
           sys.executable, '-m', 'papermill', f'{nb}.ipynb', f'{nb}.out.ipynb', '--cwd', str(run_dir), '-k', 'python3',
           '--no-progress-bar', *ps]
    for f in trace.glob(f'{nb}.*'): f.unlink()  # an earlier run's traces
    t0 = time.time()
    r = subprocess.run(cmd, cwd=run_dir, env=env, capture_output=True, text=True)
    secs = time.time() - t0
    dirs = {s: os.path.realpath(data/s) + os.sep for s in ('train', 'test')}
    stamps = []  # (time, 'train' or 'test') for each full read, (time, 'train opens' or 'test opens') for each open
    for t, p, nbytes in png_opens(trace, nb):
        for s, d in dirs.items():
            if p.startswith(d): stamps += [(t, f'{s} opens')] + [(t, s)] * (nbytes >= os.path.getsize(p))
    cells, failed = cell_table(run_dir/f'{nb}.out.ipynb', stamps) if (run_dir/f'{nb}.out.ipynb').exists() else ([], None)
    tot = Counter(s for _, s in stamps)
    return dict(seconds=round(secs, 1), ok=r.returncode == 0, failed_cell=failed, **{k: tot[k] for k in KEYS},
                error=None if r.returncode == 0 else r.stderr[-2000:],
                cells=[dict(index=i, line=l, **{k: c[k] for k in KEYS}) for i, l, c in cells if c])

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', required=True, type=Path, help='the dataset folder (train/, test/, train.csv, ...)')
    ap.add_argument('--work', required=True, type=Path, help='a new or empty folder for the runs')
    ap.add_argument('--nbs', nargs='+', default=SERIES, help='notebooks of nbs/, run in this order')
    ap.add_argument('-p', nargs=2, action='append', default=[], metavar=('[NB:]NAME', 'VALUE'), help='papermill parameter')
    ap.add_argument('--top', type=int, default=5, help='cells shown per notebook')
    ap.add_argument('--json', type=Path, help='also write the results here')
    a = ap.parse_args()
    if not shutil.which('strace'): ap.error('strace is needed (apt-get install strace)')
    data, work = a.data.resolve(), a.work.resolve()
    n = {s: len(list((data/s).glob('*.png'))) for s in ('train', 'test')}
    for d in ('run', 'trace', 'home'): (work/d).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ('HPA_PATH', 'HPA_TRACEBACK', 'IN_TEST')}
    env.update(HPA_KAGGLE_ROOT=str(data.parent), HPA_HOME=str(work/'hpa_home'), HOME=str(work/'home'), PYTHONHASHSEED='0',
               MPLBACKEND='module://matplotlib_inline.backend_inline', PYTHONWARNINGS='ignore')
    print(f'{data}: {n["train"]} train PNGs, {n["test"]} test PNGs\n')
    pas = lambda r, s: r[s] / n[s] if n[s] else 0.0
    res = {}
    for nb in a.nbs:
        r = res[nb] = run(nb, data, work, a.p, env)
        r['train_passes'], r['test_passes'] = round(pas(r, 'train'), 2), round(pas(r, 'test'), 2)
        state = 'ok' if r['ok'] else f'FAILED (cell {r["failed_cell"]})'
        print(f'== {nb}: {state}, {r["seconds"]:.0f} s, train reads {r["train"]} ({r["train_passes"]:.2f} passes), '
              f'test reads {r["test"]} ({r["test_passes"]:.2f} passes); opens: train {r["train opens"]}, test {r["test opens"]}',
              flush=True)
        for c in sorted(r['cells'], key=lambda c: -(c['train'] + c['test']))[:a.top]:
            print(f'   cell {c["index"]!s:>5}  train {c["train"]:>6} ({pas(c, "train"):5.2f})  test {c["test"]:>6} '
                  f'({pas(c, "test"):5.2f})  {c["line"]}', flush=True)
        if not r['ok']: print(r['error'], flush=True)
    print(f'\n{"notebook":<15}{"seconds":>8}{"train reads":>13}{"passes":>8}{"test reads":>12}{"passes":>8}')
    for nb, r in res.items():
        print(f'{nb:<15}{r["seconds"]:>8.0f}{r["train"]:>13}{r["train_passes"]:>8.2f}{r["test"]:>12}{r["test_passes"]:>8.2f}'
              + ('' if r['ok'] else '  FAILED'))
    if a.json: a.json.write_text(json.dumps(dict(data=str(data), files=n, notebooks=res), indent=1))
    return 0 if all(r['ok'] for r in res.values()) else 1

if __name__ == '__main__': sys.exit(main())
