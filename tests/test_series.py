"""The six notebooks of the series run as a Kaggle user runs them: every cell (Run All: no nbdev flag is honoured),
on the data found under a simulated `/kaggle/input`, with a few parameters injected by papermill for a small run.

The input is `conftest.kaggle_input`: the competition data made of real HPA files (no `test_labels.csv`), under a
folder name that is not the competition's, beside a dataset of weights. Each notebook is copied alone into a working
folder (no repository around it: its guarded `nbdev_export` cell must do nothing) and executed there by papermill
in a Jupyter kernel, its own kernel for each notebook. Both ways of running the series are covered, each notebook
once:

- one working folder (Jupyter, or all six in one Kaggle notebook): 00 → 01 → 02 → 03 in `w1`, each reading what the
  previous one wrote in `w1/outputs`;
- separate Kaggle notebooks: 04 in an empty `w2` with 03's working folder attached as an input, 05 in an empty `w3`
  with the working folders of 03 and 04 attached: they find `valid_preds.npz`, `export.pkl` and `thresholds.json`
  there, and 05 writes `submission.csv` into its working folder.

Checked: no cell fails; `submission.csv` has exactly the Ids of `sample_submission.csv`, in order, with valid labels;
the competition data and the attached inputs are unchanged (size and sha256 of every file); the repository, `HOME`
and `HPA_HOME` get nothing (nothing is written outside the working folders, the synthetic set is never generated).
"""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pandas as pd
from conftest import COMPETITION, listing

root = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SMALL = {'03_model': dict(arch='resnet18', size=32, bs=8, epochs=1, tta=2), '05_predict': dict(tta=2)}

def _untracked() -> list:
    "Files of the repository that git does not track (ignored ones included)."
    r = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all', '--ignored'], cwd=root, capture_output=True, text=True)
    caches = ('__pycache__', '.ruff_cache', '.pytest_cache', '.ipynb_checkpoints')
    # what other test files' tools write while this one runs beside them (pytest -n 2): the docs build, a wheel build
    builds = ('build/', '_proc/', '_docs/', 'hpa_protein.egg-info/')
    return sorted(l for l in r.stdout.splitlines() if l.startswith(('??', '!!')) and not any(c in l for c in caches)
                  and not l[3:].startswith(builds))

def _env(tmp_path, input_root) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ('HPA_PATH', 'HPA_TRACEBACK', 'IN_TEST')}
    home = tmp_path/'home'; home.mkdir(exist_ok=True)
    return {**env, 'HPA_KAGGLE_ROOT': str(input_root), 'HPA_HOME': str(tmp_path/'hpa_home'), 'HOME': str(home),
            'MPLBACKEND': 'module://matplotlib_inline.backend_inline', 'PYTHONHASHSEED': '0', 'PYTHONWARNINGS': 'ignore'}

def run_nb(nb, work, env, timeout=600, small=SMALL) -> str:
    "Copy `nb` alone into `work` and run every cell there with papermill; the executed notebook's text outputs."
    work.mkdir(exist_ok=True)
    src = work/f'{nb}.ipynb'
    shutil.copy(root/'nbs'/f'{nb}.ipynb', src)
    params = [a for k, v in small.get(nb, {}).items() for a in ('-p', k, str(v))]
    r = subprocess.run([BIN/'papermill', src, work/f'{nb}.out.ipynb', '--cwd', work, '-k', 'python3', '--no-progress-bar',
                        *params], env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f'{nb} failed under Run All:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}'
    import nbformat
    out = nbformat.read(work/f'{nb}.out.ipynb', as_version=4)
    print(f"{nb}: Run All in {out.metadata.papermill.duration:.0f} s", flush=True)  # shown with pytest -s
    return '\n'.join(o.get('text', '') for c in out.cells if c.cell_type == 'code' for o in c.get('outputs', []))

def attach(work, input_root, name) -> Path:
    "A notebook's working folder attached to a later notebook, as Kaggle does: a read-only input of its own."
    dest = input_root/name
    shutil.copytree(work, dest, ignore=shutil.ignore_patterns('*.ipynb'))
    return dest

def test_series_runs_on_kaggle(kaggle_input, tmp_path):
    data = kaggle_input/COMPETITION
    env, git0 = _env(tmp_path, kaggle_input), _untracked()
    before = listing(kaggle_input)
    w1, w2, w3 = tmp_path/'w1', tmp_path/'w2', tmp_path/'w3'
    text = {nb: run_nb(nb, w1, env) for nb in ('00_eda', '01_split', '02_stats', '03_model')}
    assert not _changes(before, listing(kaggle_input))
    for f in ('split.csv', 'stats.json', 'export.pkl', 'valid_preds.npz', 'history.jsonl'): assert (w1/'outputs'/f).is_file(), f
    assert "recipe: the demo's (no GPU)" in text['03_model'], text['03_model'][-2000:]
    assert 'resnet18 from random weights, 32 px, 1 epochs' in text['03_model']
    sp = pd.read_csv(w1/'outputs'/'split.csv')
    assert sp.Id.tolist() == pd.read_csv(data/'train.csv').Id.tolist()        # the dataset's own split, not another's
    model = attach(w1, kaggle_input, 'hpa-03-model')
    text['04_thresholds'] = run_nb('04_thresholds', w2, env)
    assert f'valid_preds.npz: using {model/"outputs"/"valid_preds.npz"}' in text['04_thresholds']
    assert (w2/'outputs'/'thresholds.json').is_file()
    th = attach(w2, kaggle_input, 'hpa-04-thresholds')
    attached = listing(kaggle_input)
    text['05_predict'] = run_nb('05_predict', w3, env)
    assert f'export.pkl: using {model/"outputs"/"export.pkl"}' in text['05_predict']
    assert f'thresholds.json: using {th/"outputs"/"thresholds.json"}' in text['05_predict']
    sub, sample = pd.read_csv(w3/'submission.csv', dtype=str, keep_default_na=False), pd.read_csv(data/'sample_submission.csv', dtype=str)
    assert sub.columns.tolist() == ['Id', 'Predicted'] and sub.Id.tolist() == sample.Id.tolist()
    assert all(0 <= int(t) < 28 for p in sub.Predicted for t in p.split()) and (sub.Predicted != '').all()  # fill_empty
    assert (w3/'outputs'/'submission.csv').read_bytes() == (w3/'submission.csv').read_bytes()
    assert not _changes(attached, listing(kaggle_input)), _changes(attached, listing(kaggle_input))
    assert not _changes(before, {k: v for k, v in listing(kaggle_input).items() if not k.startswith('hpa-0')})
    assert not (tmp_path/'hpa_home').exists(), 'a notebook generated the synthetic dataset instead of using the Kaggle input'
    new = sorted(set(_untracked()) - set(git0))
    assert not new, f'a notebook wrote into the repository: {new}'
    home = sorted(str(p.relative_to(tmp_path/'home')) for p in (tmp_path/'home').rglob('*') if p.is_file())
    assert not [p for p in home if not p.startswith(('.local/share/jupyter', '.ipython', '.cache/matplotlib', '.config/matplotlib'))], home

# Loaded by every Python process of the kernels (on PYTHONPATH): torch reports a Tesla T4 that this build runs on, and
# fastai's default device stays the CPU, so the choices made for a GPU are taken while every tensor stays on the CPU.
GPU_REPORTED = """
import torch, fastai.torch_core
torch.cuda.is_available = lambda: True
torch.cuda.device_count = lambda: 1
torch.cuda.get_device_capability = lambda device=None: (7, 5)
torch.cuda.get_device_name = lambda device=None: 'Tesla T4'
torch.cuda.get_arch_list = lambda: ['sm_75', 'sm_80', 'sm_86', 'sm_90']
fastai.torch_core.defaults.use_cuda = False
"""

def test_series_blog_recipe_on_a_reported_gpu(kaggle_input, tmp_path):
    "Run All of the six in one working folder where torch reports a GPU and ImageNet-shaped weights are attached: the blog's recipe end to end (its frozen phase, unfreezing, `lr='auto'` with `lr_find`), at a tiny scale, to the submission."
    import torch, torchvision
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), kaggle_input/'resnet-weights'/'resnet18-f37072fd.pth')
    site = tmp_path/'gpu_reported'; site.mkdir(); (site/'sitecustomize.py').write_text(GPU_REPORTED)
    env = _env(tmp_path, kaggle_input)
    env['PYTHONPATH'] = os.pathsep.join([str(site), *filter(None, [env.get('PYTHONPATH')])])
    small = {'03_model': dict(size=32, bs=8, epochs=1, tta=2, arch='resnet18'), '05_predict': dict(tta=2)}
    w = tmp_path/'w'
    text = {nb: run_nb(nb, w, env, small=small) for nb in ('00_eda', '01_split', '02_stats', '03_model', '04_thresholds', '05_predict')}
    t3 = text['03_model']
    weights = kaggle_input/'resnet-weights'/'resnet18-f37072fd.pth'
    assert f"recipe: the blog's (a GPU and a real dataset): resnet18 from weights {weights.name}, 32 px, 1 frozen + 1 epochs" in t3, t3[-3000:]
    assert 'no frozen phase' not in t3
    hist = [json.loads(l) for l in (w/'outputs'/'history.jsonl').read_text().splitlines()]
    assert [(h['phase'], h['epoch']) for h in hist] == [(0, 0), (1, 0)], hist   # the frozen epoch, then one unfrozen
    assert 'lr_find' in t3 and 'valley' in t3                                  # lr='auto': the rate was searched
    assert hist[0]['lr'] == hist[1]['lr'] and hist[0]['lr'] > 0
    sub = pd.read_csv(w/'submission.csv', dtype=str, keep_default_na=False)
    assert sub.Id.tolist() == pd.read_csv(kaggle_input/COMPETITION/'sample_submission.csv', dtype=str).Id.tolist()

def _changes(before, after) -> dict:
    return {k: (before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}

def test_readme_recipe_is_the_blogs():
    "The blog's recipe as the README states it once (`RECIPE=...`) is `BLOG_RECIPE`, the rest being hpa_train's defaults."
    import inspect, re
    from hpa_protein.series import BLOG_RECIPE
    from hpa_protein.model import train_cli
    line = re.search(r'RECIPE="([^"]+)"', (root/'README.md').read_text()).group(1).split()
    opts = dict(zip([o.lstrip('-') for o in line[::2]], line[1::2]))
    # the weights are given on each command line beside $RECIPE (the attached file, or imagenet online)
    want = {k: v for k, v in BLOG_RECIPE.items() if k not in ('arch', 'tta', 'cache', 'weights')}
    defaults = {k: p.default for k, p in inspect.signature(train_cli.__wrapped__ if hasattr(train_cli, '__wrapped__') else train_cli).parameters.items()}
    for k, v in want.items():
        got = opts[k] if k in opts else defaults[k]
        assert str(got) == str(v) or (isinstance(v, float) and float(got) == v), (k, got, v)
