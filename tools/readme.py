#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (the home page), as `nbdev_readme` would where Quarto is installed.
`python tools/readme.py` writes it; `python tools/readme.py --check` exits 1 when README.md is out of date."""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def render(nb_path=root/'nbs'/'index.ipynb') -> str:
    "The markdown of the home page: its markdown cells; code cells as Python blocks unless hidden."
    cells, out = json.loads(nb_path.read_text())['cells'], []
    for c in cells:
        src = ''.join(c['source']).strip()
        if not src: continue
        if c['cell_type'] == 'markdown': out.append(src)
        elif not any(l.strip().startswith(('#| hide', '#|hide')) for l in src.splitlines()):
            out.append('```python\n' + src + '\n```')
    text = '\n\n'.join(out) + '\n'
    # the notebook's `> summary` line is the page description; keep it as a quote in the README
    return text

if __name__ == '__main__':
    text, fn = render(), root/'README.md'
    if '--check' in sys.argv:
        if fn.read_text() != text: sys.exit('README.md differs from nbs/index.ipynb: run `python tools/readme.py`')
    else: fn.write_text(text)
