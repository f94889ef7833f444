"""Validation macro F1 against CPU time for the demo's settings, and the two probes of the demo's score.

Runs the demo pipeline (`run_pipeline`, the same defaults as `hpa_demo`) in DEST and prints, per epoch, the
process CPU seconds and wall seconds since training started beside the validation loss and macro F1 at 0.5;
then the demo's scores. With --probes it also fits the channel-statistics logistic regression (`stats_probe`) and
reruns the whole pipeline on a copy of the dataset with the green stain black (`blank_channel`), and prints both
test macro F1s beside the CNN's, with the ratios the method asks for (probe <= 1/2 and green-zeroed <= 1/3 of it).

usage: python bench/bench_learn.py [--dest outputs/bench_learn] [--seed 0] [--size 64] [--epochs N] [--lr LR] [--probes] [--reuse]
                                  [--crop C] [--magnification LO HI]
(--reuse: take the CNN figures from an earlier run in DEST instead of training again;
 --crop C: train on random C-px windows of the SIZE-px images, validate and predict on whole SIZE-px images;
 --magnification LO HI: generate the synthetic dataset with its cells drawn LO-HI times larger than at 1 instead
 of `synth.MAGNIFICATION`, a probe of how much larger structures would help; use a DEST of its own)
"""
import argparse, json, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, pandas as pd
from fastai.callback.core import Callback
from hpa_protein.data import read_labels, to_multihot
import sys; sys.path.insert(0, str(Path(__file__).resolve().parent.parent/'tests'))   # the probes are test helpers
from probes import stats_probe, blank_channel
from hpa_protein.pipeline import run_pipeline
from hpa_protein.series import DEMO_SIZE, DEMO_EPOCHS, DEMO_LR
from hpa_protein.thresholds import best_thresholds, macro_f1

p = argparse.ArgumentParser()
p.add_argument('--dest', default='outputs/bench_learn'); p.add_argument('--seed', type=int, default=0)
p.add_argument('--epochs', type=int, default=DEMO_EPOCHS); p.add_argument('--lr', type=float, default=DEMO_LR)
p.add_argument("--size", type=int, default=DEMO_SIZE); p.add_argument("--norm", default="image"); p.add_argument('--head', default='linear')
p.add_argument('--crop', type=int, default=None); p.add_argument('--magnification', type=float, nargs=2, default=None)
p.add_argument('--probes', action='store_true'); p.add_argument('--reuse', action='store_true', help='take the CNN run from DEST/summary.json if present')
a = p.parse_args()

class EpochClock(Callback):
    "Print CPU and wall seconds since the fit started with each epoch's validation loss and macro F1."
    order = 70
    def before_fit(self): self.c0, self.w0 = time.process_time(), time.time()
    def after_epoch(self):
        log = dict(zip(self.recorder.metric_names, self.recorder.log))
        print(f'  epoch {self.epoch+1:2d}  cpu {time.process_time()-self.c0:6.0f}s  wall {time.time()-self.w0:5.0f}s  '
              f'valid loss {float(log.get("valid_loss", np.nan)):.4f}  macro F1@0.5 {float(log.get("macro_f1", np.nan)):.3f}', flush=True)

if a.magnification:   # a probe of the generator: its cells drawn larger than `synth.MAGNIFICATION` says
    import hpa_protein.synth as _synth
    if (Path(a.dest)/'data').exists() and not a.reuse:
        raise SystemExit(f'{a.dest}/data exists: --magnification generates a dataset of its own, use a new --dest')
    _synth.MAGNIFICATION = tuple(a.magnification)

def run(dest, path=None):
    return run_pipeline(dest, path, size=a.size, epochs=a.epochs, lr=a.lr, norm=a.norm, head=a.head, crop=a.crop, seed=a.seed, cbs=[EpochClock()], show=False)

dest = Path(a.dest)
r = json.loads((dest/'summary.json').read_text()) if a.reuse and (dest/'summary.json').exists() else run(dest)
print(f'CNN: validation macro F1 {r["valid_f1_05"]:.3f} at 0.5, {r["valid_f1_crossfit"]:.3f} cross-fitted; '
      f'test macro F1 {r["test_f1"]:.3f} ({sum(v > 0 for v in r["test_f1_per_class"].values())} classes above 0); '
      f'total {r["total_s"]:.0f}s: ' + ', '.join(f'{k} {v:.0f}s' for k, v in r['times'].items()))
if a.probes:
    data, df = dest/'data', pd.read_csv(dest/'split.csv')
    tl = read_labels(data/'test_labels.csv')
    pv, pt = stats_probe(data, dest/'split.csv', tl.Id)
    yv = to_multihot(df.Target[df.is_valid.astype(str).str.lower().isin(['true', '1'])])
    f_stats = macro_f1(to_multihot(tl.Target), pt, best_thresholds(pv, yv))
    blank = dest.with_name(dest.name + '_nogreen')
    if not (blank/'data').exists(): blank_channel(data, blank/'data')
    rz = run(blank, blank/'data')
    print(f'probe, logistic regression on channel statistics: test macro F1 {f_stats:.3f} '
          f'({f_stats/r["test_f1"]:.2f} of the CNN; at most 0.5 asked)')
    print(f'probe, the same pipeline with the green stain black: test macro F1 {rz["test_f1"]:.3f} '
          f'({rz["test_f1"]/r["test_f1"]:.2f} of the CNN; at most 0.33 asked)')
    (dest/'probes.json').write_text(json.dumps(dict(cnn=r['test_f1'], stats=f_stats, no_green=rz['test_f1']), indent=1))
