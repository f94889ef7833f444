"Checks of the project's own files: README, settings, console scripts."
import re, subprocess, sys
from configparser import ConfigParser
from pathlib import Path

root = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root/'tools'))
import readme

def cfg():
    c = ConfigParser(delimiters=['=']); c.read(root/'settings.ini'); return c['DEFAULT']

def scripts():
    return dict(s.split('=') for s in cfg()['console_scripts'].split())

def test_readme_is_generated_from_index():
    assert (root/'README.md').read_text() == readme.render(), 'run `python tools/readme.py`'

def test_readme_two_commands_are_make_targets():
    text = (root/'README.md').read_text()
    block = re.search(r'```sh\n(make \w+.*\n)(make \w+.*\n)```', text)
    assert block, 'README must give the two commands in one sh block'
    targets = re.findall(r'^(\w+):', (root/'Makefile').read_text(), re.M)
    for line in block.groups(): assert line.split()[1] in targets, line
    assert 'make test' in (root/'.ci'/'run').read_text()

def test_every_console_script_is_documented_and_importable():
    text = (root/'README.md').read_text()
    for name, target in scripts().items():
        assert f'`{name}' in text or f'{name} ' in text, f'{name} is not in the README'
        mod, fn = target.split(':')
        m = __import__(mod, fromlist=[fn])
        assert callable(getattr(m, fn)), target

def test_console_scripts_answer_help():
    for name in scripts():
        exe = Path(sys.executable).parent/name
        r = subprocess.run([str(exe), '--help'], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and 'usage' in r.stdout.lower(), (name, r.stdout[-500:], r.stderr[-2000:])

def test_readme_commands_use_real_options():
    "Every `hpa_*` command line in the README's sh blocks names options its CLI has (the Kaggle recipe stays true)."
    import shlex
    from fastcore.script import anno_parser
    funcs = {}
    for name, target in scripts().items():
        mod, fn = target.split(':'); funcs[name] = getattr(__import__(mod, fromlist=[fn]), fn)
    seen = set()
    for block in re.findall(r'```sh\n(.*?)```', (root/'README.md').read_text(), re.S):
        for line in block.splitlines():
            for part in re.split(r'&&|;', line.split(' #')[0]):
                toks = shlex.split(part.replace('$(which ', '').replace(')', ''))
                cmd = next((t for t in toks if t in funcs), None)
                if cmd is None: continue
                opts = set(anno_parser(funcs[cmd])._option_string_actions)
                for t in toks[toks.index(cmd) + 1:]:
                    if t.startswith('--'): assert t in opts, f'README: {cmd} has no option {t}'
                seen.add(cmd)
    assert {'hpa_train', 'hpa_predict', 'hpa_split'} <= seen, seen

def test_fixture_paths_named_in_notebooks_exist():
    "Notebook cells that read the repository's fixtures skip where they are absent; so the path they name must exist here."
    for nb in sorted((root/'nbs').glob('*.ipynb')):
        for p in set(re.findall(r"\.\./tests/fixtures/[\w/.-]+", nb.read_text())):
            assert (root/'nbs'/p).exists(), f'{nb.name}: {p} does not exist'
