"""Build the docs site: notebooks executed for their figures, nbdev's own processing, smalldocs to render it.

Called by tools/docs.sh (`make docs`); `python tools/docs_build.py --help` lists the steps.
1. `stage`:  nbs/nbdev.yml and nbs/sidebar.yml as nbdev writes them, then nbs/ copied to build/docs/nbs with every
             notebook executed the way `nbdev_test` runs it (cwd nbs/, cells flagged with settings.ini `tst_flags` or
             `eval: false` skipped; flagged cells keep their committed outputs), so the pages show what the code
             draws now. Library warnings are off (`LIB_WARNINGS`). Runs are cached in build/docs/exec by a hash of the
             notebook, settings.ini and those filters; a notebook that fails or times out keeps what ran, with a
             warning. --exec all|fresh|cached|none, --only NAMES. A cell whose figure is wider than the text column gets
             Quarto's `column: page-right` (`widen_figures`): the figure is shown at its drawn size, not shrunk.
2. `proc`:   `nbdev_proc_nbs` on the staged notebooks (nbdev's processors: show_doc API docs, hidden cells, doc
             links) into _proc/, without the Quarto check that would try to install Quarto.
3. `render`: smalldocs renders the Quarto project in _proc/ (_quarto.yml, nbdev.yml, sidebar.yml) into _docs/, without
             the links nbdev puts inside show_doc's signature code (`unlink_code`; with Quarto they stay: nbdev_docs).
`offline` = 1-3. With Quarto, tools/docs.sh runs `stage` and then nbdev's own `nbdev_docs --path build/docs/nbs`.
"""
import argparse, hashlib, json, os, re, shutil, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT/'build'/'docs'
STAGE, EXEC_CACHE = BUILD/'nbs', BUILD/'exec'


def cfg():
    from nbdev.config import get_config
    return get_config(path=ROOT)


def say(*a): print('docs:', *a, flush=True)


# library warnings that say nothing about a notebook (and would print this machine's install paths into its outputs)
LIB_WARNINGS = 'ignore::FutureWarning,ignore:load_learner:UserWarning'

def exec_env():
    "The environment a notebook is executed in: fixed hash seed, library warnings off."
    return {**os.environ, 'PYTHONHASHSEED': '0', 'PYTHONWARNINGS': LIB_WARNINGS}


def quiet_libs():
    "`LIB_WARNINGS` for this process (nbdev_proc_nbs runs show_doc cells in it) and the processes it starts."
    import builtins, warnings
    os.environ['PYTHONWARNINGS'] = LIB_WARNINGS
    for spec in LIB_WARNINGS.split(','):
        action, msg, cat = spec.split(':')
        warnings.filterwarnings(action, msg, getattr(builtins, cat))


def exec_one(src, dst, run=()):
    """Execute notebook `src` like nbdev_test (cwd: its folder) and write it with its outputs to `dst`; 1 on failure.
    Cells flagged with one of `run` (e.g. 'slow') run too; other flagged cells keep their committed outputs."""
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    src = Path(src).resolve()
    os.environ['IN_TEST'] = '1'  # the same switch nbdev_test sets
    os.environ.pop('MPLBACKEND', None)  # let execnb's inline backend capture figures
    flags = set(cfg().get('tst_flags', '').split()) - set(run)
    def skip(c):
        d = getattr(c, 'directives_', {}) or {}
        return (c.cell_type != 'code' or 'nbdev_export(' in c.source or d.get('eval:', [''])[0].lower() == 'false'
                or bool(flags & d.keys()))
    skips = {c.idx_ for c in NBProcessor(src, procs=FrontmatterProc, process=True).nb.cells if skip(c)}
    nb, k = read_nb(src), CaptureShell(src)
    for c in nb.cells:  # a cell that runs starts empty: no output of an earlier run survives it
        if c.cell_type == 'code' and c.idx_ not in skips: c.outputs = []
    sys.path.insert(0, str(ROOT))  # as nbdev_test does
    os.chdir(src.parent)
    try: k.run_all(nb, exc_stop=True, preproc=lambda c: c.idx_ in skips); ok = True
    except BaseException as e:
        ok = False
        print(k.prettytb(fname=src) if k.exc else f'{src.name}: {type(e).__name__}: {e}', file=sys.stderr)
    for c in nb.cells:  # an error traceback is not documentation
        if c.cell_type == 'code': c.outputs = [o for o in c.get('outputs', []) if o.get('output_type') != 'error']
    write_nb(nb, dst)
    return 0 if ok else 1


def _run(src, dst, timeout):
    "Run `exec_one` in a fresh process: None when it ran to the end, else why not."
    try: r = subprocess.run([sys.executable, __file__, 'exec-one', str(src), str(dst)], capture_output=True, text=True,
                            timeout=timeout, env=exec_env())
    except subprocess.TimeoutExpired: return f'timed out after {timeout}s'
    return None if r.returncode == 0 else '\n'.join((r.stdout + r.stderr).strip().splitlines()[-3:])


def stage(mode='all', n_workers=2, timeout=300, only=()):
    """nbs/ copied to build/docs/nbs with executed notebooks. mode: all (run what the cache lacks), fresh (run all),
    cached (run none: cached runs, else committed outputs), none (committed outputs); `only`: the notebooks (stems)
    that may run, the others as in mode cached."""
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    c = cfg()
    refresh_quarto_yml(); nbdev_sidebar.__wrapped__()  # nbs/nbdev.yml, nbs/sidebar.yml: the first steps of nbdev_docs
    nbs, salt = Path(c.nbs_path), Path(c.config_file).read_bytes() + LIB_WARNINGS.encode()
    shutil.rmtree(STAGE, ignore_errors=True); EXEC_CACHE.mkdir(parents=True, exist_ok=True)
    todo, n_cached = [], 0
    for s in sorted(nbs.rglob('*')):
        rel = s.relative_to(nbs)
        if not s.is_file() or any(p.startswith(('.', '_proc', '_docs')) or p == 'outputs' for p in rel.parts): continue
        d = STAGE/rel
        d.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(s.resolve(), d)  # a fresh mtime: nbdev's processing redoes every staged notebook
        code = s.suffix == '.ipynb' and any(x['cell_type'] == 'code' for x in json.loads(s.read_text(encoding='utf-8'))['cells'])
        if not code or mode == 'none' or s.name == c.get('readme_nb', 'index.ipynb'): continue
        out = EXEC_CACHE/f"{str(rel.with_suffix('')).replace(os.sep, '__')}-{hashlib.sha1(s.read_bytes() + salt).hexdigest()[:16]}.ipynb"
        for old in EXEC_CACHE.glob(out.name.rsplit('-', 1)[0] + '-*.ipynb'):
            if old != out: old.unlink()
        may_run = mode in ('all', 'fresh') and (not only or s.stem in only or s.name in only)
        if out.exists() and not (may_run and mode == 'fresh'): shutil.copy(out, d); n_cached += 1
        elif may_run: todo.append((s, d, out))
    def one(job):
        s, d, out = job
        err = _run(s, d, timeout)
        if err is None: shutil.copy(d, out); say(f'executed {s.name}')
        else: say(f'WARNING: {s.name} did not run to the end ({err}); its page shows what ran')
        return err
    with ThreadPoolExecutor(n_workers) as ex: failed = sum(e is not None for e in ex.map(one, todo))
    n_wide = sum(widen_figures(f) for f in STAGE.rglob('*.ipynb'))
    readme, idx = ROOT/'README.md', STAGE/c.get('readme_nb', 'index.ipynb')
    if readme.exists() and idx.exists(): os.utime(idx, (readme.stat().st_mtime,)*2)  # README.md is tools/readme.py's
    say(f'staged {STAGE.relative_to(ROOT)}: {len(todo)} notebooks run ({failed} did not finish), {n_cached} from the cache; '
        f'{n_wide} cells with figures wider than the text column')


BODY_PX = 640  # the text column at a 1280-px window (smalldocs: ~650 px between the sidebar and the table of contents)
_COLUMN_OPT = re.compile(r'^#\|\s*(fig-)?column:', re.M)

def png_width(b64):
    "Width in pixels of a base64 PNG (from its IHDR chunk), 0 when it is not one."
    import base64
    head = base64.b64decode(''.join(b64)[:64])
    return int.from_bytes(head[16:20], 'big') if head[:8] == b'\x89PNG\r\n\x1a\n' else 0


def widen_figures(path, body_px=BODY_PX):
    """Let a cell's figures wider than the text column use the page width: Quarto's `#| column: page-right` cell option
    (rendered by Quarto and smalldocs alike; smalldocs hides the table of contents while the figure passes under it),
    added to the staged copy of notebook `path`, so that a figure is shown at its drawn size, not shrunk into the column
    (a 1,100-px figure in a 650-px column has 6-px text). Cells with a column option of their own keep it. Cells changed."""
    nb, n = json.loads(Path(path).read_text(encoding='utf-8')), 0
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        w = max([png_width(o['data']['image/png']) for o in c.get('outputs', []) if 'image/png' in o.get('data', {})], default=0)
        if w > body_px and not _COLUMN_OPT.search(src) and not src.startswith('%%'):  # a cell magic stays first
            c['source'], n = '#| column: page-right\n' + src, n + 1
    if n: Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding='utf-8')
    return n


def proc(n_workers=2):
    "`nbdev_proc_nbs` on the staged notebooks, into a fresh _proc/ (cwd nbs/, as nbdev_test runs them)."
    from nbdev.serve import proc_nbs
    shutil.rmtree(ROOT/'_proc', ignore_errors=True)  # no pages left from notebooks since renamed or deleted
    os.chdir(cfg().nbs_path)
    try: proc_nbs(str(STAGE), n_workers=n_workers)
    except Exception as e:
        m = re.match(r'Error in notebook: (.*?) in cell (\d+) :\n(.*)', str(e), re.S)
        if not m: raise
        cause = [l for l in str(e.__cause__ or '').splitlines() if re.match(r'\w+(Error|Exception)\b', l)]
        sys.exit(f"docs: nbdev_proc_nbs failed on the notebook titled '{m.group(1)}', cell {m.group(2)}"
                 f"{' (' + cause[-1].strip() + ')' if cause else ''}. nbdev executes every cell that imports something, "
                 f"to have the names show_doc needs: keep imports in cells of their own, with no other code "
                 f"(nbdev warns 'Found cells containing imports and other code' for each such cell above). The cell:\n"
                 + m.group(3))
    finally: os.chdir(ROOT)


def _frontmatter(nb):
    "The YAML front matter that nbdev's processors put in the first (raw or markdown) cell, and that cell."
    import yaml
    if not nb['cells']: return {}, None
    c = nb['cells'][0]
    m = re.match(r'\s*---\n(.*?)\n---\s*\n', ''.join(c['source']), re.S)
    return ((yaml.safe_load(m.group(1)) or {}), c) if m else ({}, None)


_FENCE = re.compile(r'^(```+)[^\n]*\n.*?^\1[ \t]*$', re.M | re.S)
_MD_LINK = re.compile(r'\[(`[^`\n]+`)\]\([^)\s]*\)')

def unlink_code(md):
    """Markdown `md` with the links nbdev put inside code blocks taken out again: nbdev's `add_links` links every
    `name` of a show_doc output, also in its signature's code block (the docments comments), where the link shows as
    raw text ([`read_labels`](https://...)) in the code."""
    return _FENCE.sub(lambda m: _MD_LINK.sub(r'\1', m.group(0)), md)


def site_src():
    """_proc/ copied to build/docs/site with each page named after its `output-file`, as Quarto names it
    (00a_data -> data.html; smalldocs reads no output-file), links and sidebar entries to the old names rewritten."""
    src, dest = ROOT/'_proc', BUILD/'site'
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns('.*', '_docs'))
    nbs, ren = {}, {}
    for f in sorted(dest.rglob('*.ipynb')):
        nb = json.loads(f.read_text(encoding='utf-8'))
        fm, cell = _frontmatter(nb)
        out = fm.get('output-file')
        if cell is not None and out:
            cell['source'] = re.sub(r'(?m)^output-file:.*\n', '', ''.join(cell['source']))
            new = f.with_name(Path(out).stem + '.ipynb')
            if new != f and not new.exists() and new not in ren.values(): ren[f] = new
        nbs[f] = nb
    names = {f.relative_to(dest).as_posix(): n.relative_to(dest).as_posix() for f, n in ren.items()}
    def fix(text):
        for o, n in names.items(): text = re.sub(rf'(?<![\w/.-]){re.escape(o[:-6])}\.(ipynb|html)\b', n[:-6] + r'.\1', text)
        return text
    for f, nb in nbs.items():
        for c in nb['cells']:
            if c['cell_type'] == 'markdown': c['source'] = fix(''.join(c['source']))
            for o in c.get('outputs', []):
                if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = unlink_code(''.join(o['data']['text/markdown']))
        if f in ren: f.unlink()
        ren.get(f, f).write_text(json.dumps(nb), encoding='utf-8')
    for y in dest.glob('*.yml'):
        if not y.is_symlink(): y.write_text(fix(y.read_text(encoding='utf-8')), encoding='utf-8')
    return dest


QUIET = ('format commonmark is not built', 'keep-md is ignored')  # nbdev's _quarto.yml options for Quarto only


def render():
    "smalldocs renders the pages (no Quarto needed) into doc_path (_docs); links to the published site made relative."
    from smalldocs.site import build
    c = cfg()
    docs, url = Path(c.doc_path), (c.get('doc_host', '') + c.get('doc_baseurl', '')).rstrip('/')
    site = build(str(site_src()), quiet=True)
    for w in site.warnings:
        if not any(q in w for q in QUIET): say('smalldocs warning:', w)
    shutil.rmtree(docs, ignore_errors=True)
    shutil.move(str(site.out), str(docs))
    for f in (docs.rglob('*.html') if url else []):  # nbdev's doc links point to the published site: here, to this build
        s = f.read_text(encoding='utf-8')
        t = re.sub(rf'href="{re.escape(url)}/?', 'href="' + '../' * (len(f.relative_to(docs).parts) - 1), s)
        if t != s: f.write_text(t, encoding='utf-8')
    say(f'site written to {docs.relative_to(ROOT)}/ ({len(list(docs.rglob("*.html")))} pages)')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('step', choices=['stage', 'proc', 'render', 'offline', 'exec-one'])
    p.add_argument('args', nargs='*', help='exec-one: SRC DST')
    p.add_argument('--exec', dest='mode', choices=['all', 'fresh', 'cached', 'none'], default=os.environ.get('DOCS_EXEC', 'all'),
                   help='all: run notebooks the cache lacks; fresh: run all; cached: run none, use the cache; '
                        'none: committed outputs only (env DOCS_EXEC)')
    p.add_argument('--only', default=os.environ.get('DOCS_EXEC_ONLY', ''), help='space-separated notebook names '
                   'that may run (env DOCS_EXEC_ONLY); the others come from the cache or their committed outputs')
    p.add_argument('--n_workers', type=int, default=int(os.environ.get('DOCS_WORKERS', 2)))
    p.add_argument('--timeout', type=int, default=int(os.environ.get('DOCS_NB_TIMEOUT', 300)), help='seconds per notebook')
    a = p.parse_args(argv)
    os.chdir(ROOT); quiet_libs()
    if a.step == 'exec-one': return exec_one(*a.args)
    if a.step in ('stage', 'offline'): stage(a.mode, a.n_workers, a.timeout, a.only.split())
    if a.step in ('proc', 'offline'): proc(a.n_workers)
    if a.step in ('render', 'offline'): render()
    return 0


if __name__ == '__main__': sys.exit(main())
