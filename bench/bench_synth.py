"""Speed of the synthetic generator (hpa_protein.synth) at 512x512: samples/s with 1 worker and with all cores.

Run: python bench/bench_synth.py [--n N] [--size 512]
Prints wall-clock rates (the machine may be shared: compare the ratio within one run) and, for 1 worker,
the CPU time per sample split into drawing and PNG writing.
"""
import argparse, os, time, tempfile, shutil, resource
from pathlib import Path
import cv2
from hpa_protein.synth import make_synth, render_sample, sample_labels, _PNG_PARAMS

p = argparse.ArgumentParser()
p.add_argument('--n', type=int, default=60, help='samples per run')
p.add_argument('--size', type=int, default=512)
a = p.parse_args()

tmp = Path(tempfile.mkdtemp(prefix='bench_synth-'))
try:
    sets = sample_labels(a.n, 0)
    render_sample(sets[0], a.size, 0)                    # warm up (label weights, noise table)
    t0, c0 = time.perf_counter(), time.process_time()
    imgs = [render_sample(s, a.size, [0, i]) for i, s in enumerate(sets)]
    draw_wall, draw_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    for i, img in enumerate(imgs):
        for j, ch in enumerate(img): cv2.imwrite(str(tmp/f'{i}_{j}.png'), ch, _PNG_PARAMS)
    png_wall, png_cpu = time.perf_counter() - t0, time.process_time() - c0
    kb = sum(f.stat().st_size for f in tmp.glob('*.png')) / a.n / 1024
    print(f'size {a.size}, {a.n} samples, {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}')
    print(f'per sample, 1 process: draw {draw_cpu/a.n*1e3:.1f} ms CPU ({draw_wall/a.n*1e3:.1f} wall), '
          f'write 4 PNGs {png_cpu/a.n*1e3:.1f} ms CPU ({png_wall/a.n*1e3:.1f} wall), {kb:.0f} KB on disk')
    print(f'=> {a.n/(draw_cpu+png_cpu):.1f} samples/s per core of CPU time')
    def cpu():
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
    rates = {}
    for nw in (1, os.cpu_count()):
        t0, c0 = time.perf_counter(), cpu()
        make_synth(tmp/f'ds{nw}', a.n, 0, a.size, n_workers=nw, show=False)
        rates[nw], c = a.n / (time.perf_counter() - t0), cpu() - c0
        print(f'make_synth n_workers={nw}: {rates[nw]:.1f} samples/s (wall), {c/a.n*1e3:.0f} ms CPU per sample '
              f'(all processes) = {a.n/c:.1f} samples per CPU-second')
    print(f'speed-up all cores / 1 worker (wall): {rates[os.cpu_count()]/rates[1]:.2f}x, load avg now {os.getloadavg()[0]:.1f}')
finally: shutil.rmtree(tmp, ignore_errors=True)
