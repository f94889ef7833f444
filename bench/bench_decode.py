"""Decoding and resizing a 4-channel 512x512 sample: OpenCV vs Pillow.

Run: python bench/bench_decode.py [--n 16] [--real DIR]   (DIR default: $HPA_REAL_SAMPLE)
Times per sample (4 PNGs): decode with cv2.imread vs PIL.Image.open, and resize 512->256 with
cv2.INTER_AREA vs PIL BICUBIC (and PIL BOX, what hpa_protein.data uses without OpenCV). Files: synthetic ones
generated in a temporary folder, plus real HPA channels when a folder of them is given (one channel per Id there, so
a "sample" is 4 different files). CPU time of one process, best of 3 repeats (wall time on a shared machine
measures the neighbours); compare the ratios.
"""
import argparse, os, time, tempfile, shutil
from pathlib import Path
import numpy as np, cv2
from PIL import Image
from hpa_protein.core import CHANNELS, img_file
from hpa_protein.synth import make_synth

cv2.setNumThreads(1)
p = argparse.ArgumentParser()
p.add_argument('--n', type=int, default=16, help='synthetic samples')
p.add_argument('--real', default=os.environ.get('HPA_REAL_SAMPLE', ''), help='folder of real PNGs (default: $HPA_REAL_SAMPLE; skipped if unset or absent)')
p.add_argument('--repeats', type=int, default=3)
a = p.parse_args()

def best(f, groups):
    "Best-of-repeats CPU time per group (ms) of f applied to every item of every group (CPU time: the machine may be busy)."
    ts = []
    for _ in range(a.repeats):
        t0 = time.process_time()
        for g in groups:
            for x in g: f(x)
        ts.append((time.process_time() - t0) / len(groups) * 1e3)
    return min(ts)

def cv_read(fn): return cv2.imread(str(fn), cv2.IMREAD_UNCHANGED)
def pil_read(fn):
    with Image.open(fn) as im: return np.asarray(im)
def cv_area(x): return cv2.resize(x, (256, 256), interpolation=cv2.INTER_AREA)
def pil_bicubic(x): return np.asarray(Image.fromarray(x).resize((256, 256), Image.BICUBIC))
def pil_box(x): return np.asarray(Image.fromarray(x).resize((256, 256), Image.BOX))

def report(name, groups):
    kb = np.mean([sum(os.path.getsize(f) for f in g) for g in groups]) / 1024
    arrs = [[cv_read(f) for f in g] for g in groups]
    assert all(np.array_equal(cv_read(f), pil_read(f)) for f in groups[0])
    d_cv, d_pil = best(cv_read, groups), best(pil_read, groups)
    r_cv, r_bic, r_box = best(cv_area, arrs), best(pil_bicubic, arrs), best(pil_box, arrs)
    print(f'\n{name}: {len(groups)} samples x 4 PNGs of 512x512, {kb:.0f} KB per sample')
    print(f'  decode   cv2.imread  {d_cv:6.2f} ms/sample   PIL  {d_pil:6.2f} ms/sample   PIL/cv2 = {d_pil/d_cv:.2f}x')
    print(f'  resize   cv2 AREA    {r_cv:6.2f} ms/sample   PIL BICUBIC {r_bic:6.2f}   PIL BOX {r_box:6.2f}   '
          f'BICUBIC/AREA = {r_bic/r_cv:.1f}x')
    print(f'  decode+resize: cv2 {d_cv + r_cv:.2f} ms, PIL+BICUBIC {d_pil + r_bic:.2f} ms '
          f'-> {1e3/(d_cv + r_cv):.0f} vs {1e3/(d_pil + r_bic):.0f} samples/s per core')

print(f'{os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}; OpenCV {cv2.__version__}, Pillow {Image.__version__}')
tmp = Path(tempfile.mkdtemp(prefix='bench_decode-'))
try:
    ds = make_synth(tmp/'ds', a.n, 0, 512, n_workers=1, show=False)
    ids = [l.split(',')[0] for l in (ds/'train.csv').read_text().splitlines()[1:]]
    report('synthetic', [[img_file(ds/'train', i, c) for c in CHANNELS] for i in ids])
    real = Path(a.real)
    if a.real and real.is_dir():
        fs = sorted(real.glob('*.png'))[:4*a.n]
        if len(fs) >= 4: report(f'real ({real})', [fs[i:i+4] for i in range(0, len(fs) - 3, 4)])
    else: print(f'\n(real files: {a.real or "no --real or $HPA_REAL_SAMPLE"} not found, skipped)')
finally: shutil.rmtree(tmp, ignore_errors=True)
