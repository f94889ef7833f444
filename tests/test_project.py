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

BLOG = ['00_eda', '01_split', '02_stats', '03_model', '04_thresholds', '05_predict']  # the series, in reading order

def test_readme_is_generated_from_index_and_usage():
    text = (root/'README.md').read_text()
    assert text == readme.render(), 'run `python tools/readme.py`'
    usage = [h for c in readme.cells_md(root/'nbs'/'usage.ipynb', skip_title=True) for h in re.findall(r'^##+ .+$', c, re.M)]
    assert usage and all(h in text for h in usage), 'the README lacks sections of nbs/usage.ipynb'

def test_readme_links_resolve():
    "Every relative link and image of the README names a file of the repository, every #anchor one of its headings."
    text = (root/'README.md').read_text()
    anchors = {readme.gh_anchor(h) for h in re.findall(r'^#+ (.+)$', re.sub(r'```.*?```', '', text, flags=re.S), re.M)}
    bad = []
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if re.match(r'[a-z][\w+.-]*:', target): continue
        path, _, frag = target.partition('#')
        if path and not (root/path).exists(): bad.append(f'{target} (no file {path})')
        elif not path and frag not in anchors: bad.append(f'{target} (no such heading)')
    assert not bad, 'README links that lead nowhere: ' + ', '.join(bad)

def test_index_is_the_short_home_page():
    "nbs/index.ipynb: the two commands, the figure of the demo model's per-class F1, the six notebooks in reading order."
    text = '\n'.join(readme.cells_md(root/'nbs'/'index.ipynb'))
    assert '```sh\nmake demo' in text and '\nmake test' in text
    assert '](images/demo_test_f1.png)' in text
    links = [l for l in re.findall(r'\]\((\w+)\.ipynb', text) if l in BLOG]
    assert list(dict.fromkeys(links)) == BLOG, f'the six notebooks, in reading order: {links}'
    assert '](usage.ipynb' in text, 'the home page links to the usage page'
    assert len(text) < 6000, f'the home page is {len(text)} characters: the rest belongs in nbs/usage.ipynb'

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

def _pkg_modules() -> dict:
    import importlib
    return {f.stem: importlib.import_module(f'hpa_protein.{f.stem}') for f in sorted((root/'hpa_protein').glob('*.py'))
            if f.stem not in ('__init__', '_modidx')}

def _defined_in(mod) -> set:
    "Names a module's source defines at its top level (functions, classes, assignments), read with `ast`."
    import ast
    res = set()
    for n in ast.parse(Path(mod.__file__).read_text()).body:
        if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)): res.add(n.name)
        elif isinstance(n, ast.Assign): res |= {t.id for t in n.targets if isinstance(t, ast.Name)} | \
            {e.id for t in n.targets if isinstance(t, ast.Tuple) for e in t.elts if isinstance(e, ast.Name)}
    return res

def test_each_name_imported_from_its_home():
    "Every `from .x import name` in the package names the module that defines `name`; no module re-exports another's names."
    import ast
    mods = _pkg_modules(); defs = {k: _defined_in(m) for k, m in mods.items()}
    bad = []
    for k, m in mods.items():
        for n in ast.walk(ast.parse(Path(m.__file__).read_text())):
            if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module in defs:
                bad += [f'{k}: {a.name} imported from .{n.module}, which does not define it' for a in n.names if a.name not in defs[n.module]]
        if '_all_' in defs[k]: bad.append(f'{k}: re-exports names of other modules (_all_)')
        bad += [f'{k}.__all__: {a} is not defined there' for a in getattr(m, '__all__', []) if a not in defs[k]]
    assert not bad, '\n'.join(bad)

def test_reading_labels_does_not_import_the_generator():
    "The synthetic generator is imported by what makes synthetic data, not by reading a dataset or tuning thresholds."
    code = "import sys, hpa_protein.data, hpa_protein.thresholds, hpa_protein.split; print('hpa_protein.synth' in sys.modules)"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.stdout.strip() == 'False', (r.stdout, r.stderr[-2000:])

def test_a_runs_file_names_are_spelled_once():
    "The files of an output folder are named in `hpa_protein.run.FILES` alone: no other string of the package (docstrings aside) spells one."
    import ast
    from hpa_protein.run import FILES
    pat = re.compile(r'(?<![\w.])(' + '|'.join(re.escape(Path(v).name) for v in FILES.values() if '.' in v) + r')(?![\w])')
    bad = []
    for k, m in _pkg_modules().items():
        if k == 'run': continue
        t = ast.parse(Path(m.__file__).read_text())
        docs = {id(n.body[0].value) for n in ast.walk(t) if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        bad += [f'{k}.py:{n.lineno}: {n.value!r}' for n in ast.walk(t) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                and id(n) not in docs and pat.search(n.value)]
    assert not bad, '\n'.join(bad)
