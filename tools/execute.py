"""Execute notebooks in place, keeping their outputs (the committed figures of the series), then `nbdev_clean` them.

    python tools/execute.py nbs/00_eda.ipynb nbs/01_split.ipynb      # cells flagged slow/cuda skipped, as in nbdev_test
    python tools/execute.py --run slow nbs/03_model.ipynb             # also the cells flagged slow (a real training run)

Each notebook runs in a fresh process with its folder as the working directory (as `nbdev_test` runs it); cells
skipped keep the outputs they had. A notebook that fails is left unchanged and the command exits 1.
"""
import argparse, shutil, subprocess, sys, tempfile
from pathlib import Path
from docs_build import exec_env  # tools/ is this script's folder

ROOT = Path(__file__).resolve().parent.parent

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('nbs', nargs='+', help='notebooks to execute in place')
    p.add_argument('--run', default='', help='comma-separated cell flags to run too (e.g. slow)')
    a = p.parse_args(argv)
    failed = 0
    for nb in map(Path, a.nbs):
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)/nb.name
            code = f'import sys; sys.path.insert(0, {str(ROOT/"tools")!r}); import docs_build; ' \
                   f'sys.exit(docs_build.exec_one({str(nb.resolve())!r}, {str(tmp)!r}, {tuple(filter(None, a.run.split(",")))!r}))'
            r = subprocess.run([sys.executable, '-c', code], env=exec_env())
            if r.returncode: print(f'execute: {nb} failed; left unchanged', file=sys.stderr); failed = 1; continue
            shutil.copy(tmp, nb)
        subprocess.run(['nbdev_clean', '--fname', str(nb)], check=True)
        print(f'execute: {nb} ({nb.stat().st_size/1e3:.0f} KB)', flush=True)
    return failed

if __name__ == '__main__': sys.exit(main())
