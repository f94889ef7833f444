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

# Names that moved to another module when the library was reorganised, by the module that used to define them: code
# that imports them from there keeps working. New homes: core, split, callbacks, synth, data, model.
MOVED = {'data': ['LABELS', 'N_CLASSES', 'CHANNELS', 'OFFICIAL_COUNTS', 'OFFICIAL_LABELS_PER_IMAGE', 'USER_ERRORS',
                  'hpa_home', 'img_file', 'HPADataError', 'HPAArgError', 'opencv', 'progress', 'default_workers', 'pmap',
                  'one_line', 'user_errors'],
         'thresholds': ['check_probs', 'check_thresholds', 'save_preds', 'load_preds', 'sim_labels', 'sim_preds'],
         'model': ['fold_split', 'rng_state', 'set_rng_state', 'opt_to_params', 'save_checkpoint', 'hpa_versions'],
         'series': ['find_inputs', 'is_synthetic', 'find_weights', 'is_online']}

def test_moved_names_still_import_from_their_old_modules():
    import importlib
    bad = []
    for old, names in MOVED.items():
        m = importlib.import_module(f'hpa_protein.{old}')
        star = {}; exec(f'from hpa_protein.{old} import *', star)
        for n in names:
            o = getattr(m, n, None)
            home = getattr(o, '__module__', None)
            if o is None: bad.append(f'hpa_protein.{old}.{n}: gone')
            elif home == f'hpa_protein.{old}' and callable(o): bad.append(f'hpa_protein.{old}.{n}: defined there again, not moved')
            elif old in ('data', 'thresholds', 'series') and n not in star: bad.append(f'from hpa_protein.{old} import *: no {n}')
    assert not bad, '\n'.join(bad)
