"""Every command answers bad input with one line on stderr and exit status 2, and keeps the traceback for bugs.

Each case runs the installed console script in a subprocess on a small broken dataset and checks: status 2, exactly
one line on stderr, starting with the command's name and naming the file or argument, no `Traceback`.
`hpa_protein.core.user_errors` does it, on every console script (checked below).
"""
import os, subprocess, sys
from configparser import ConfigParser
from pathlib import Path
import numpy as np, pytest
import hpa_protein.core as C
from hpa_protein.core import HPADataError, user_errors
from conftest import tiny_dataset

root = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def scripts() -> dict:
    c = ConfigParser(delimiters=['=']); c.read(root/'settings.ini')
    return dict(s.split('=') for s in c['DEFAULT']['console_scripts'].split())

def run(prog, *args, cwd=None):
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    env.pop('HPA_TRACEBACK', None)
    exe = BIN/prog
    if not exe.exists(): pytest.skip(f'{prog} is not installed')
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)

def one_line(r, prog, *parts):
    "`r` failed with exactly one line on stderr, from `prog`, holding every one of `parts`."
    lines = r.stderr.splitlines()
    assert r.returncode == 2, (r.returncode, r.stdout[-1000:], r.stderr[-3000:])
    assert 'Traceback' not in r.stderr and len(lines) == 1, r.stderr[-3000:]
    assert lines[0].startswith(f'{prog}: '), lines[0]
    for p in parts: assert p in lines[0], (p, lines[0])
    return lines[0]

@pytest.fixture(scope='module')
def ds(tmp_path_factory):
    "A tiny valid dataset in the Kaggle layout (16 train, 2 test images of 32 px)."
    ids = [f'id{i:02d}' for i in range(16)]
    return tiny_dataset(tmp_path_factory.mktemp('cli')/'ds', ids, [str(i % 3) for i in range(16)], ['t0', 't1'])

def broken(ds, tmp_path, csv_text):
    "A copy of `ds` (images linked) with another train.csv."
    d = tmp_path/'broken'; d.mkdir()
    for s in ('train', 'test'): (d/s).symlink_to(ds/s)
    (d/'sample_submission.csv').write_text((ds/'sample_submission.csv').read_text())
    (d/'train.csv').write_text(csv_text)
    return d

BAD_ROWS = 'Id,Target\nid00,0\nid01,\nid02,1 x\nid03,29\n'
NO_TARGET = 'Id,Label\nid00,0\n'
DUP_ID = 'Id,Target\nid00,0\nid01,1\nid00,2\n'

@pytest.mark.parametrize('csv,parts', [(BAD_ROWS, ["3 problem(s)", "line 3 (Id 'id01'): empty Target", "line 5 (Id 'id03')", 'outside 0..27']),
                                       (NO_TARGET, ["missing column(s) ['Target']"]),
                                       (DUP_ID, ["line 4: duplicate Id 'id00'"])], ids=['bad rows', 'missing column', 'duplicate Id'])
def test_split_bad_labels(ds, tmp_path, csv, parts):
    d = broken(ds, tmp_path, csv)
    one_line(run('hpa_split', '--path', d, '--out', tmp_path/'out'), 'hpa_split', f'{d/"train.csv"}:', *parts)
    assert not (tmp_path/'out').exists()

def test_eda_duplicate_id(ds, tmp_path):
    d = broken(ds, tmp_path, DUP_ID)
    one_line(run('hpa_eda', '--path', d, '--out', tmp_path/'out'), 'hpa_eda', "duplicate Id 'id00'")

def test_split_bad_argument(ds, tmp_path):
    one_line(run('hpa_split', '--path', ds, '--out', tmp_path, '--n_splits', '1', '--order', '3'), 'hpa_split', 'order must be 1 or 2, got 3')

def test_stats_missing_and_bad_split_file(ds, tmp_path):
    one_line(run('hpa_stats', '--path', ds, '--out', tmp_path, '--split', tmp_path/'nope.csv'), 'hpa_stats', 'nope.csv: file not found')
    (tmp_path/'split.csv').write_text('Id,Target,is_valid\nid00,0,True\nid00,1,False\n')
    one_line(run('hpa_stats', '--path', ds, '--out', tmp_path, '--split', tmp_path/'split.csv'), 'hpa_stats', "duplicate Id 'id00'")
    (tmp_path/'split.csv').write_text('Id,Target,is_valid\nid00,0,maybe\n')
    one_line(run('hpa_stats', '--path', ds, '--out', tmp_path, '--split', tmp_path/'split.csv'), 'hpa_stats', 'line 2: is_valid must be True/False')
    assert not (tmp_path/'stats.json').exists()

def test_thresholds_missing_valid_preds(tmp_path):
    one_line(run('hpa_thresholds', '--out', tmp_path), 'hpa_thresholds', f'{tmp_path/"valid_preds.npz"}: not found')
    np.savez(tmp_path/'valid_preds.npz', ids=np.array(['a']), probs=np.zeros((1, 27)), y=np.zeros((1, 27)))
    one_line(run('hpa_thresholds', '--out', tmp_path), 'hpa_thresholds', 'expected shape (N, 28)')

def test_validate_bad_argument_and_dups_missing_folder(ds, tmp_path):
    one_line(run('hpa_validate', '--path', ds, '--split', 'valid'), 'hpa_validate', "--split 'valid'")
    one_line(run('hpa_dups', '--path', ds, '--out', tmp_path, '--sets', 'train,extra'), 'hpa_dups', f'{ds/"extra"}: folder not found')

def test_gradcam_bad_label_and_missing_model(ds, tmp_path):
    one_line(run('hpa_gradcam', '--out', tmp_path, '--path', ds, '--label', '7', 'Golgi aparatus'), 'hpa_gradcam',
             "label 'Golgi aparatus': not a label id (0..27) or name; did you mean 'Golgi apparatus'?")
    one_line(run('hpa_gradcam', '--out', tmp_path, '--path', ds, '--label', '7'), 'hpa_gradcam', f'{tmp_path/"export.pkl"}: not found')
    assert not (tmp_path/'figures').exists()

def test_import_v18_missing_source(ds, tmp_path):
    (tmp_path/'v18.csv').write_text('Id,Target\n10580_1610_C1_1,0\n')
    one_line(run('hpa_import_v18', tmp_path/'nope', tmp_path/'dest', tmp_path/'v18.csv', '--path', ds), 'hpa_import_v18', 'nope: folder not found')

def plain_split(t):
    "An output folder holding a split without folds."
    (t/'out').mkdir(exist_ok=True); (t/'out'/'split.csv').write_text('Id,Target,is_valid\nid00,0,True\n')
    return t/'out'

MORE_CASES = {
    'hpa_kfold': lambda ds, t: (['--path', ds, '--out', plain_split(t), '--n_splits', '3'], 'not a 3-fold split'),
    'hpa_train': lambda ds, t: (['--path', ds, '--out', t/'out', '--split', t/'nope.csv', '--size', '32', '--arch', 'resnet18'], 'nope.csv: file not found'),
    'hpa_cache': lambda ds, t: (['--path', broken(ds, t, DUP_ID), '--out', t/'out', '--size', '32'], "duplicate Id 'id00'"),
    'hpa_predict': lambda ds, t: (['--path', ds, '--out', t], 'export.pkl: not found'),
    'hpa_predict --rule': lambda ds, t: (['--path', ds, '--out', t, '--rule', 'share'], "rule: expected 'f1' or 'fraction'"),
    'hpa_synth': lambda ds, t: (['--dest', t/'s', '--size', '8'], 'size=8'),
    'hpa_demo': lambda ds, t: (['--dest', t/'demo', '--path', broken(ds, t, BAD_ROWS)], 'problem(s)'),
}

@pytest.mark.parametrize('prog', sorted(MORE_CASES))
def test_more_commands(ds, tmp_path, prog):
    args, part = MORE_CASES[prog](ds, tmp_path)
    prog = prog.split()[0]
    one_line(run(prog, *args), prog, part)

def test_every_command_is_under_user_errors():
    "`user_errors` marks its wrapper; `functools.wraps` carries the mark through `call_parse`."
    for name, target in scripts().items():
        mod, fn = target.split(':')
        f = getattr(__import__(mod, fromlist=[fn]), fn)
        assert getattr(f, 'user_errors', False), f'{name} ({target}) is not decorated with @user_errors'

def test_only_user_errors_become_one_line(monkeypatch, capsys):
    "As a command a user error exits 2 with one line; a bug keeps its traceback; from Python both raise."
    @user_errors
    def cli(kind):
        if kind == 'data': raise HPADataError('a.csv: 2 problem(s):\n  line 2: x\n  line 3: y')
        if kind == 'missing': raise FileNotFoundError(2, 'No such file or directory', 'w.pth')
        return {}['bug']
    with pytest.raises(HPADataError): cli('data')                       # from Python: raises
    monkeypatch.setattr(sys, 'argv', ['/env/bin/hpa_toy'])
    monkeypatch.setattr(C, '_console_names', lambda f: {'hpa_toy'})
    monkeypatch.delenv('HPA_TRACEBACK', raising=False)
    with pytest.raises(SystemExit) as e: cli('data')
    assert e.value.code == 2 and capsys.readouterr().err == 'hpa_toy: a.csv: 2 problem(s): line 2: x; line 3: y\n'
    with pytest.raises(SystemExit): cli('missing')
    assert capsys.readouterr().err == "hpa_toy: [Errno 2] No such file or directory: 'w.pth'\n"
    with pytest.raises(KeyError): cli('bug')                              # a bug is not a user error
    monkeypatch.setenv('HPA_TRACEBACK', '1')
    with pytest.raises(HPADataError): cli('data')                        # asked for the traceback

def test_commands_start_with_their_own_output():
    "No library deprecation notice before a command's output (torch's jit.script FutureWarning, raised importing fastai)."
    import subprocess, sys
    from pathlib import Path
    env = {k: v for k, v in __import__('os').environ.items() if k != 'PYTHONWARNINGS'}
    for cmd in ('hpa_train', 'hpa_demo', 'hpa_kfold'):
        r = subprocess.run([Path(sys.executable).parent/cmd, '--help'], capture_output=True, text=True, env=env)
        assert r.returncode == 0 and r.stdout.startswith(f'usage: {cmd}'), (cmd, r.stdout[:200], r.stderr[-500:])
        assert 'Warning' not in r.stderr, (cmd, r.stderr[-1000:])
