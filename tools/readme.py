#!/usr/bin/env python
"""Write README.md, the complete document on GitHub: the home page nbs/index.ipynb followed by the sections of
nbs/usage.ipynb (its title cell left out), as `nbdev_readme` would write the home page where Quarto is installed.
Links are rewritten for the repository root: `images/x.png` -> `nbs/images/x.png`, `03_model.ipynb` ->
`nbs/03_model.ipynb`, and `usage.ipynb#part` -> `#part` (that page is in the README itself).
`python tools/readme.py` writes it; `python tools/readme.py --check` exits 1 when README.md is out of date."""
import json, os, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
nbs = root/'nbs'
PARTS = ('index.ipynb', 'usage.ipynb')  # the home page, then the usage page's sections


def cells_md(nb_path, skip_title=False) -> list:
    "The markdown of a notebook: its markdown cells; code cells as Python blocks unless hidden."
    cells, out = json.loads(Path(nb_path).read_text(encoding='utf-8'))['cells'], []
    for i, c in enumerate(cells):
        src = ''.join(c['source']).strip()
        if not src or (skip_title and i == 0 and src.startswith('# ')): continue
        if c['cell_type'] == 'markdown': out.append(src)
        elif not any(l.strip().startswith(('#| hide', '#|hide')) for l in src.splitlines()):
            out.append('```python\n' + src + '\n```')
    return out


def gh_anchor(heading) -> str:
    "The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def fix_links(text, usage_anchor) -> str:
    "Links of a page in nbs/ made to work from the repository root."
    def one(m):
        target = m.group(2)
        if re.match(r'[a-z][\w+.-]*:|#|/', target): return m.group(0)  # external, anchor or absolute
        path, _, frag = target.partition('#')
        if path == 'usage.ipynb': new = '#' + (frag or usage_anchor)
        else: new = 'nbs/' + target
        return m.group(1) + new + ')'
    return re.sub(r'(\]\()([^)\s]+)\)', one, text)


def render(parts=PARTS) -> str:
    "README.md's text: the home page, then the usage page's sections, their links rewritten for the repository root."
    home, usage = cells_md(nbs/parts[0]), cells_md(nbs/parts[1], skip_title=True)
    first = re.search(r'^##+ (.+)$', '\n'.join(usage), re.M)
    text = '\n\n'.join(home + usage)
    return fix_links(text, gh_anchor(first.group(1)) if first else '') + '\n'


if __name__ == '__main__':
    text, fn = render(), root/'README.md'
    if '--check' in sys.argv:
        if fn.read_text(encoding='utf-8') != text:
            sys.exit('README.md differs from nbs/index.ipynb and nbs/usage.ipynb: run `python tools/readme.py`')
    else:
        tmp = fn.with_name('.README.md.tmp')
        tmp.write_text(text, encoding='utf-8'); os.replace(tmp, fn)  # never a half-written README
