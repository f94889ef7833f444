"""The commands as a reader meets them: every option of every command has a type and says what it does, and every
command line shown in README.md and in the notebooks runs.

`shown_blocks` collects the ```sh blocks of README.md (which holds `index.ipynb` and `usage.ipynb`) and of the other
notebooks' markdown. Each block either runs, as a bash script with `set -e`, in order, in one simulated Kaggle session
(the dataset of real HPA files under a simulated `/kaggle/input`, a working folder for `/kaggle/working`), or is
listed in `NOT_RUN` with the reason; a block that is neither fails the test, so a command added to the docs is run
by the next test run. What the run changes, and why:

- placeholders become the simulated session's folders (`REWRITE`); `$RECIPE` is the README's own `RECIPE=` line;
- training commands get `--size 32 --epochs 1` and a few more caps appended (argparse keeps the last value), so
  every option shown is parsed and used, but at a toy scale;
- `--weights imagenet` finds torchvision's cache filled with a stand-in ResNet34 state dict (random, ImageNet-shaped);
- `/kaggle/input/<previous-run>/out` is the `out` folder of the earlier block, attached, in a new working folder;
- the README's blocks share one working folder (they chain), each notebook's blocks have their own.
"""
import importlib, os, re, shutil, subprocess, sys
from configparser import ConfigParser
from pathlib import Path
import nbformat, numpy as np, pandas as pd, pytest, torch, torchvision
from PIL import Image
from conftest import make_kaggle_dataset

root = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def scripts() -> dict:
    c = ConfigParser(delimiters=['=']); c.read(root/'settings.ini')
    return dict(s.split('=') for s in c['DEFAULT']['console_scripts'].split())

def parsers():
    "`(command, argparse parser)` of every console script, as `call_parse` builds it."
    from fastcore.script import anno_parser
    for name, target in scripts().items():
        mod, fn = target.split(':')
        yield name, anno_parser(getattr(importlib.import_module(mod), fn).__wrapped__, name)

def _sample(a) -> str:
    if a.choices: return str(list(a.choices)[0])
    return {int: '1', float: '0.5'}.get(a.type, 'x')

def test_every_option_has_a_type_and_help():
    "Each option parses a value of its type (not `NoneType`, as an unannotated `None` default gives), and has help; a `--no-x` flag's help names it."
    bad = []
    for name, p in parsers():
        acts = [a for a in p._actions if a.dest not in ('help', 'pdb', 'xtra')]
        pos = [_sample(a) for a in acts if not a.option_strings]
        for a in acts:
            help_ = re.sub(r'\s*\(default: .*\)$', '', a.help or '').strip()
            if not help_: bad.append(f'{name} {a.dest}: no help')
            if not a.option_strings: continue
            opt = a.option_strings[0]
            if opt.startswith('--no-') and opt not in help_: bad.append(f'{name} {opt}: the help does not say what {opt} does: {a.help!r}')
            if a.nargs == 0: continue
            if a.type is None or a.type is type(None): bad.append(f'{name} {opt}: no type')
            try: p.parse_args(pos + [opt, _sample(a)])
            except SystemExit: bad.append(f'{name} {opt} {_sample(a)}: refused by its own parser')
    assert not bad, '\n'.join(bad)

# --- every command line shown runs ----------------------------------------------------------------------------------

NOT_RUN = {  # a regex matching a block's text: why it is not run here
    r'^make demo': 'the README\'s own set-up commands: `make test` is what runs this test',
    r'pip install git\+https': 'installs from GitHub (the network)',
    r'pip install captum': 'installs a package into the running environment (captum is in the development set)',
    r'pip install --no-index --find-links': 'installs into the running environment; test_wheel_from_a_clone installs the wheel into a target folder',
    r'pip wheel --no-deps -w wheels git\+https': 'builds from GitHub (the network); test_wheel_from_a_clone runs the clone form',
}

def shown_blocks() -> list:
    "`(source, text)` of every ```sh block of README.md and of the notebooks not in the README, in reading order."
    fence = re.compile(r'```(?:sh|bash|shell)\n(.*?)```', re.S)
    res = [('README.md', b) for b in fence.findall((root/'README.md').read_text())]
    for f in sorted((root/'nbs').glob('*.ipynb')):
        if f.stem in ('index', 'usage'): continue   # in the README
        md = '\n'.join(c.source for c in nbformat.read(f, as_version=4).cells if c.cell_type == 'markdown')
        res += [(f.name, b) for b in fence.findall(md) if 'hpa_' in b]
    return res

CAPS = '--size 32 --epochs 1 --lr_find_it 4 --tta 1 --bs 8 --num_workers 0'
TRAINING = re.compile(r'(hpa_train|hpa_kfold)\b([^&\n]*)')
REWRITE = [('/path/to/human-protein-atlas-image-classification', '{data}'), ('/kaggle/input/<weights-dataset>', '{inp}/resnet34-weights'),
           ('/kaggle/input/<previous-run>', '{inp}/previous-run'), ('/kaggle/input/<wheels-dataset>', '{inp}/wheels'),
           ('/kaggle/working', '{work}')]

def _script(text, **dirs) -> str:
    for a, b in REWRITE: text = text.replace(a, b.format(**dirs))
    lines = [re.sub(r'\s+#\s.*$', '', l) for l in text.splitlines() if not l.startswith('RECIPE=')]   # comments out; RECIPE: in the environment
    text = '\n'.join(lines)
    return 'set -euo pipefail\n' + TRAINING.sub(lambda m: f'{m.group(1)}{m.group(2).rstrip()} {CAPS}', text)

def v18_input(work):
    "HPAv18-like input in `work`: two colour JPEGs per stain and their label table, as `hpa_import_v18` reads them."
    (work/'HPAv18_jpgs').mkdir(exist_ok=True)
    comp = {'red': (0,), 'green': (1,), 'blue': (2,), 'yellow': (0, 1)}
    ids = ['1_A1_1', '2_B2_1']
    for k, i in enumerate(ids):
        rng = np.random.default_rng(k)
        for c, ch in comp.items():
            rgb = np.zeros((64, 64, 3), np.uint8)
            for j in ch: rgb[..., j] = rng.integers(0, 255, (64, 64), dtype=np.uint8)
            Image.fromarray(rgb).save(work/'HPAv18_jpgs'/f'{i}_{c}.jpg', quality=90)
    pd.DataFrame({'Id': ids, 'Target': ['0', '7 25']}).to_csv(work/'HPAv18RBGY_wodpl.csv', index=False)

@pytest.fixture(scope='module')
def session(tmp_path_factory):
    "A simulated Kaggle session: the competition data (real HPA files) under an input root, a working folder, an environment."
    tmp = tmp_path_factory.mktemp('kaggle')
    inp, work = tmp/'input', tmp/'working'
    data = make_kaggle_dataset(inp/'hpa-data', n_train=40)
    (inp/'resnet34-weights').mkdir(parents=True); work.mkdir()
    sd = torchvision.models.resnet34(weights=None).state_dict()   # ImageNet-shaped stand-ins: nothing is downloaded
    torch.save(sd, inp/'resnet34-weights'/'resnet34.pth')
    ck = tmp/'torch'/'hub'/'checkpoints'; ck.mkdir(parents=True)
    shutil.copy(inp/'resnet34-weights'/'resnet34.pth', ck/Path(torchvision.models.ResNet34_Weights.DEFAULT.url).name)
    recipe = re.search(r'^RECIPE="([^"]+)"', (root/'README.md').read_text(), re.M).group(1)
    env = {**{k: v for k, v in os.environ.items() if k not in ('HPA_TRACEBACK',)}, 'PATH': f"{BIN}{os.pathsep}{os.environ['PATH']}",
           'HPA_PATH': str(data), 'HPA_KAGGLE_ROOT': str(inp), 'HPA_HOME': str(tmp/'hpa_home'), 'TORCH_HOME': str(tmp/'torch'),
           'RECIPE': recipe, 'MPLBACKEND': 'Agg', 'PYTHONWARNINGS': 'ignore', 'OMP_NUM_THREADS': '1'}
    yield dict(data=data, inp=inp, work=work, env=env, tmp=tmp)
    shutil.rmtree(tmp, ignore_errors=True)   # its trainings leave GBs of models: gone once the module is done

def test_shown_commands_run(session):
    blocks = shown_blocks()
    assert len(blocks) >= 12, blocks
    inp, work, env = session['inp'], session['work'], session['env']
    v18_input(work)
    ran, prev, seen = 0, None, set()
    for src, text in blocks:
        if any(re.search(k, text, re.M) for k in NOT_RUN): continue
        if '<previous-run>' in text:   # a new session: the earlier run's output attached, an empty working folder
            shutil.copytree(work/'out', inp/'previous-run'/'out', dirs_exist_ok=True)
            shutil.rmtree(work/'out')
        if text.strip().startswith('RECIPE='): continue   # read by the fixture
        if text in seen: continue   # the same block shown again (a notebook repeating the README's): run once
        seen.add(text)
        wd = work if src == 'README.md' else session['tmp']/f'working-{Path(src).stem}'   # a notebook's blocks: a session of their own
        if prev not in (None, work, wd): shutil.rmtree(prev)   # the blocks of a file come together: the previous notebook's session is over
        wd.mkdir(exist_ok=True); prev = wd
        script = _script(text, data=session['data'], inp=inp, work=wd)
        r = subprocess.run(['bash', '-c', script], cwd=wd, env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, f'{src}: a block shown there fails:\n{script}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}'
        ran += 1
    assert ran >= 9, ran
    sub = pd.read_csv(work/'submission.csv')   # the Kaggle block's submission, copied where Kaggle takes it
    assert sub.Id.tolist() == pd.read_csv(session['data']/'sample_submission.csv').Id.tolist()
    assert (work/'outputs'/'fold4'/'export.pkl').exists() and (work/'hpa_plus_v18'/'train.csv').exists()

def test_every_block_is_run_or_explained():
    "A block is run by `test_shown_commands_run` unless `NOT_RUN` says why not; each reason still matches a block."
    texts = [t for _, t in shown_blocks()]
    for k in NOT_RUN: assert any(re.search(k, t, re.M) for t in texts), f'NOT_RUN entry {k!r} matches no block any more'

def test_wheel_from_a_clone(tmp_path):
    "The README's wheel command, in the form for a clone of this repository, builds a wheel that installs offline."
    line = re.search(r'^pip wheel (.*) \. .*$', (root/'README.md').read_text(), re.M)
    assert line, 'the README shows no `pip wheel ... .` command for a clone'
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp_path/'wheels', root],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    whl = list((tmp_path/'wheels').glob('hpa_protein-*.whl'))
    assert len(whl) == 1, whl
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-index', '--find-links', tmp_path/'wheels', '--no-deps',
                        '--target', tmp_path/'site', 'hpa_protein'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path/'site'/'hpa_protein'/'model.py').exists() and (tmp_path/'site'/'hpa_protein'/'_modidx.py').exists()
