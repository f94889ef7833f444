"""Check the six chapters of the series as a reader meets them (tests/test_chapters.py runs the same checks).

    python tools/check_chapters.py                  # the six chapters
    python tools/check_chapters.py nbs/04_thresholds.ipynb

For each chapter:
- the story is everything before its `## Under the hood` heading; between two cells of the story that show an output,
  a reader scrolls through at most `MAX_CODE` lines of code (the longest stretch is printed);
- no hidden cell (`#| hide`) shows an output: what a hidden cell prints would read like a result on GitHub and Kaggle;
- every number the prose quotes (a decimal with two or more decimals, or an integer of four or more digits) appears
  among the outputs of the series (any of the six chapters), or the markdown cell names the command that produced it
  (`python bench/...`, `make demo`, `hpa_...`): a rerun that changes an output fails the check, not the reader;
- no cell finds a command next to the interpreter (`Path(sys.executable).parent`): commands are found as installed;
- no code under the hood reads the user's dataset: none names the notebook's `data` parameter or calls `hpa_path`
  (the checks make their own tiny fixtures, so they give the same answer whatever the data).
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERIES = ['00_eda', '01_split', '02_stats', '03_model', '04_thresholds', '05_predict']
MAX_CODE = 60
NUM = re.compile(r'(?<![\w.\-/#`])(\d{1,3}(?:,\d{3})+|\d{4,}|\d+\.\d{2,})(?![\w.]*`)(?!\d)')
COMMAND = re.compile(r'`(python bench/|make demo|hpa_\w+|python tools/)')

def load(nb): return json.loads(Path(nb).read_text())
def src(c): return ''.join(c['source'])
def hidden(c): return c['cell_type'] == 'code' and any(l.strip().replace(' ', '') in ('#|hide',) for l in src(c).splitlines()[:3])

def out_text(c) -> str:
    res = []
    for o in c.get('outputs', []):
        t = o.get('text') or o.get('data', {}).get('text/plain') or ''
        res.append(''.join(t) if isinstance(t, list) else t)
        h = o.get('data', {}).get('text/html')
        if h: res.append(''.join(h) if isinstance(h, list) else h)
    return '\n'.join(res)

def story_cells(nb) -> list:
    cells = load(nb)['cells']
    end = next((i for i, c in enumerate(cells) if c['cell_type'] == 'markdown' and src(c).lstrip().startswith('## Under the hood')), len(cells))
    return cells[:end]

def longest_stretch(nb) -> tuple:
    "`(lines, first cell, last cell)` of the longest run of code lines between two story cells with an output."
    best, run, start, seen = (0, None, None), 0, None, False
    for i, c in enumerate(story_cells(nb)):
        if c['cell_type'] != 'code' or hidden(c) or src(c).startswith('#| default_exp'): continue
        if c.get('outputs'):
            if seen and run > best[0]: best = (run, start, i)
            run, start, seen = 0, None, True
        else:
            if start is None: start = i
            run += len(src(c).splitlines())
    return best

def series_outputs() -> str:
    return '\n'.join(out_text(c) for nb in SERIES for c in load(ROOT/'nbs'/f'{nb}.ipynb')['cells'] if c['cell_type'] == 'code')

def _norm(n:str) -> set:
    "Ways an output may print the number `n`."
    plain = n.replace(',', '')
    return {n, plain, f'{int(plain):,}'} if plain.isdigit() else {n}

def unbacked_numbers(nb, outs:str) -> list:
    res = []
    for i, c in enumerate(load(nb)['cells']):
        if c['cell_type'] != 'markdown': continue
        s = src(c)
        if COMMAND.search(s): continue
        text = re.sub(r'`[^`]*`', '', re.sub(r'\]\([^)]*\)', ']', s))   # code spans and link targets are not quoted figures
        for n in NUM.findall(text):
            if re.fullmatch(r'(19|20)\d\d', n): continue   # a year
            if not any(v in outs for v in _norm(n)): res.append((i, n))
    return res

USER_DATA = re.compile(r'(?<![\w.\'"])data(?![\w\'"])|\bhpa_path\(')

def user_data_cells(nb) -> list:
    "Code cells under the hood, other than the library's (`#| export`), that name the notebook's `data` or call `hpa_path` (comments aside)."
    cells = load(nb)['cells']
    start = len(story_cells(nb))
    return [i for i, c in enumerate(cells[start:], start) if c['cell_type'] == 'code' and not src(c).lstrip().startswith(('#| export', '#|export'))
            and USER_DATA.search('\n'.join(l.split('#')[0] for l in src(c).splitlines()))]

def check(nb, outs=None) -> list:
    outs = series_outputs() if outs is None else outs
    cells, probs = load(nb)['cells'], []
    probs += [f'cell {i}: a hidden cell shows an output' for i, c in enumerate(cells) if hidden(c) and c.get('outputs')]
    n, a, b = longest_stretch(nb)
    if n > MAX_CODE: probs.append(f'cells {a}-{b}: {n} lines of code between two outputs of the story (at most {MAX_CODE})')
    probs += [f'cell {i}: the prose quotes {x}, which no output of the series shows' for i, x in unbacked_numbers(nb, outs)]
    probs += [f'cell {i}: finds a command next to the interpreter' for i, c in enumerate(cells) if 'Path(sys.executable).parent' in src(c)]
    probs += [f"cell {i}: under the hood, reads the user's dataset (`data` or `hpa_path`)" for i in user_data_cells(nb)]
    return probs

if __name__ == '__main__':
    nbs = sys.argv[1:] or [ROOT/'nbs'/f'{nb}.ipynb' for nb in SERIES]
    outs, bad = series_outputs(), 0
    for nb in nbs:
        n, a, b = longest_stretch(nb)
        probs = check(nb, outs)
        print(f'{Path(nb).name}: longest code between story outputs {n} lines (cells {a}-{b}); {len(probs)} problem(s)')
        for p in probs: print(f'  {p}')
        bad += len(probs)
    sys.exit(1 if bad else 0)
