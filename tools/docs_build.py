"""Build the docs site: nbdev's notebook processing, executed notebooks for the figures, and a renderer.

Called by tools/docs.sh (`make docs`); `python tools/docs_build.py --help` lists the steps and options.

1. `prep`:   nbs/nbdev.yml (from settings.ini) and nbs/sidebar.yml (notebooks in file-name order), as `nbdev_docs`
             does first. (`nbdev_proc_nbs` would do 1 and 3, but without Quarto it first tries to install Quarto.)
2. `stage`:  copy nbs/ to build/docs/nbs with each notebook *executed* like `nbdev_test` runs it (cwd nbs/, cells
             flagged with settings.ini `tst_flags` or `eval: false` skipped), so figures appear even where a
             notebook is committed without outputs. Runs are cached in build/docs/exec by a hash of the notebook
             and settings.ini; a notebook that fails keeps what ran before the failure (errors dropped) and warns;
             one that times out keeps its committed outputs. --exec all|fresh|cached|none, --only NAMES.
3. `proc`:   nbdev's processors (show_doc API docs, hidden cells, doc links) on the staged notebooks into _proc/,
             keeping the executed outputs (see TolerantFilter).
4. `render`: smalldocs renders a copy of _proc/ (a Quarto project: _quarto.yml + nbdev.yml + sidebar.yml, pages named
             by nbdev's output-file as Quarto names them) into _docs/.
`offline` = 1-4. With Quarto, tools/docs.sh runs 1-3 and then `nbdev_docs`, which renders _proc/ with Quarto.
"""
import argparse, hashlib, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT/'build'/'docs'
STAGE, EXEC_CACHE = BUILD/'nbs', BUILD/'exec'
EXEC_VERSION = '1'  # bump to invalidate every cached execution


def cfg():
    from nbdev.config import get_config
    return get_config(path=ROOT)


def say(*a): print('docs:', *a, flush=True)


def prep():
    "Write nbs/nbdev.yml (from settings.ini) and nbs/sidebar.yml (notebooks in file-name order), as `nbdev_docs` does."
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    import nbdev.doclinks
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()  # what nbdev_export writes too; the processors read it for doc links
    nbdev_sidebar.__wrapped__()


def _cache_salt(c):
    """What, besides the notebook itself, keys a cached execution. Not the package: a notebook's outputs come from its
    own exports and code, and keying on every module would re-run all notebooks whenever anyone exports
    (DOCS_EXEC=fresh re-runs everything)."""
    return hashlib.sha1(EXEC_VERSION.encode() + Path(c.config_file).read_bytes()).hexdigest()


def exec_one(src, dst, timeout):
    "Execute notebook `src` (cwd: its folder, like nbdev_test) and write it with outputs to `dst`; exit 1 on failure."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    src, dst = Path(src).resolve(), Path(dst)
    os.environ['IN_TEST'] = '1'  # the same switch nbdev_test sets
    os.environ.pop('MPLBACKEND', None)  # let execnb's inline backend capture figures
    flags = set(cfg().get('tst_flags', '').split())
    proc = NBProcessor(src, procs=FrontmatterProc, process=True).nb
    def skip(c):
        if c.cell_type != 'code' or 'nbdev_export(' in c.source: return True
        d = getattr(c, 'directives_', {}) or {}
        return d.get('eval:', [''])[0].lower() == 'false' or bool(flags & d.keys())
    skips = {c.idx_ for c in proc.cells if skip(c)}
    nb = read_nb(src)
    k = CaptureShell(src, timeout=None)
    ok = True
    sys.path.insert(0, str(ROOT))  # as nbdev_test does (basepath)
    os.chdir(src.parent)
    try: k.run_all(nb, exc_stop=True, preproc=lambda c: c.idx_ in skips)
    except BaseException as e:
        ok = False
        print(k.prettytb(fname=src) if k.exc else f'{src.name}: {type(e).__name__}: {e}', file=sys.stderr)
    for c in nb.cells:  # an error traceback is not documentation
        if c.cell_type == 'code': c.outputs = [o for o in c.get('outputs', []) if o.get('output_type') != 'error']
    write_nb(nb, dst)
    return 0 if ok else 1


def _needs_exec(fn, c):
    if fn.name == c.get('readme_nb', 'index.ipynb'): return False  # the README source stays as committed
    return any(x['cell_type'] == 'code' for x in json.loads(fn.read_text(encoding='utf-8'))['cells'])


def stage(mode='all', n_workers=2, timeout=300, check=False, only=None):
    """Copy nbs/ to build/docs/nbs with executed notebooks; the names of those that failed.
    mode: all (run what the cache lacks), fresh (run all), cached (run nothing: cached runs, else committed outputs),
    none (committed outputs). `only`: notebook names (stems) that may run; the others as in mode cached."""
    c = cfg()
    nbs = Path(c.nbs_path)
    shutil.rmtree(STAGE, ignore_errors=True)
    STAGE.mkdir(parents=True)
    EXEC_CACHE.mkdir(parents=True, exist_ok=True)
    libh = _cache_salt(c)
    todo, used, staged, n_cached = [], set(), [], 0
    for s in sorted(nbs.rglob('*')):
        rel = s.relative_to(nbs)
        if any(p.startswith(('.', '_proc', '_docs')) for p in rel.parts) or not s.is_file(): continue
        d = STAGE/rel
        d.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(s.resolve(), d)  # resolves the _quarto.yml symlink; keeps mtimes (nbdev_readme compares them)
        staged.append(rel)
        if s.suffix != '.ipynb' or mode == 'none' or not _needs_exec(s, c): continue
        run = mode in ('all', 'fresh') and (not only or s.stem in only or s.name in only)
        key = hashlib.sha1(s.read_bytes() + libh.encode()).hexdigest()[:16]
        out = EXEC_CACHE/f"{str(rel.with_suffix('')).replace(os.sep, '__')}-{key}.ipynb"
        used.add(out.stem)
        fresh = run and mode == 'fresh'
        if out.exists() and not fresh: shutil.copy2(out, d); n_cached += 1
        elif out.with_suffix('.failed').exists() and not (check or fresh):
            shutil.copy2(out.with_suffix('.failed'), d); n_cached += 1
        elif run: todo.append((s, d, out))
    for f in EXEC_CACHE.iterdir():
        if f.stem.rsplit('-', 1)[0] in {u.rsplit('-', 1)[0] for u in used} and f.stem not in used: f.unlink()
    failed = _run_all(todo, n_workers, timeout, check) if todo else []
    failed += [f.stem.rsplit('-', 1)[0] + '.ipynb' for f in EXEC_CACHE.glob('*.failed') if f.stem in used]
    # proc_nbs reprocesses a file only when it is newer than its copy in _proc: drop the copies of what changed
    manifest, old = BUILD/'staged.json', {}
    if manifest.exists(): old = json.loads(manifest.read_text())
    new = {str(r): hashlib.sha1((STAGE/r).read_bytes()).hexdigest() for r in staged}
    for r, h in new.items():
        if old.get(r) != h: (ROOT/'_proc'/r).unlink(missing_ok=True)
    manifest.write_text(json.dumps(new, indent=1))
    # README.md is made from index.ipynb by tools/readme.py: keep nbdev_docs (Quarto path) from rewriting it
    idx, readme = STAGE/c.get('readme_nb', 'index.ipynb'), ROOT/'README.md'
    if idx.exists() and readme.exists():
        t = min(idx.stat().st_mtime, readme.stat().st_mtime)
        os.utime(idx, (t, t))
    if mode == 'none': say(f'staged {STAGE.relative_to(ROOT)}: notebooks with their committed outputs (--exec none)')
    else: say(f'staged {STAGE.relative_to(ROOT)}: {len(todo)} notebooks run, {n_cached} from the cache, '
        f'{len(used) - len(todo) - n_cached} with their committed outputs'
        + (f'; did not run to the end: {", ".join(sorted(set(failed)))}' if failed else ''))
    return sorted(set(failed))


def _run_all(todo, n_workers, timeout, check=False):
    "Execute notebooks in subprocesses, `n_workers` at a time, each killed after `timeout` seconds; the failed names."
    env = {**os.environ, 'PYTHONHASHSEED': '0'}
    pending, running, failed = list(todo), [], []
    while pending or running:
        while pending and len(running) < n_workers:
            s, d, out = pending.pop(0)
            tmp, log = out.with_suffix('.tmp'), out.with_suffix('.log')
            with open(log, 'w') as lf:
                p = subprocess.Popen([sys.executable, __file__, 'exec-one', str(s), str(tmp)], env=env,
                                     stdout=lf, stderr=subprocess.STDOUT)
            running.append((p, time.time(), s, d, out, tmp, log))
        time.sleep(0.2)
        for r in list(running):
            p, t0, s, d, out, tmp, log = r
            if p.poll() is None and time.time()-t0 < timeout: continue
            running.remove(r)
            if p.poll() is None:
                p.kill(); p.wait()
                err = f'timed out after {timeout}s'
            else: err = f'exit code {p.returncode}'
            if p.returncode == 0 and tmp.exists():
                os.replace(tmp, out); shutil.copy2(out, d); log.unlink()
                say(f'executed {s.name} in {time.time()-t0:.0f}s')
                continue
            if tmp.exists():  # what ran before the failure, errors removed; cached unless it timed out
                if p.returncode != -9: shutil.copy2(tmp, out.with_suffix('.failed'))
                os.replace(tmp, d)
            failed.append(s.name)
            say(f'WARNING: {s.name} did not run to the end ({err}); its page shows what ran. Log: {log.relative_to(ROOT)}')
            lines = log.read_text(errors='replace').splitlines()
            print('\n'.join(lines if check else lines[-3:]), file=sys.stderr, flush=True)
    return failed


class TolerantFilter:
    """nbdev's processors, except: exec_show_docs runs only the imports of a cell that mixes imports with other code
    (nbdev runs the whole cell again, outside the notebook's state, and stops the build when it fails), so the cell
    keeps the outputs of the executed run and the build stays fast; and a notebook whose show_doc step still fails
    loses its API docs, with a warning, instead of stopping the build."""
    def __call__(self, nb):
        import ast
        from nbdev.processors import FilterDefaults, exec_show_docs, _do_eval, _show_docs
        class exec_show_docs_imports(exec_show_docs):
            def __call__(self, cell):
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')  # nbdev's "Found cells containing imports and other code": see below
                    if not self.nb.has_docs_ or not hasattr(self, 'k') or not _do_eval(cell): return
                trees = cell.parsed_()
                imps = [t for t in trees if isinstance(t, (ast.Import, ast.ImportFrom))]
                if cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'} or _show_docs(trees) or len(imps) == len(trees):
                    return super().__call__(cell)
                self.k.run('\n'.join(ast.unparse(t) for t in imps))
                if self.k.exc:
                    print(f'docs: WARNING: imports failed: {ast.unparse(imps[0])}: {self.k.exc!r}', flush=True)
                    self.k.exc = None
        class F(FilterDefaults):
            def base_procs(self):
                return [exec_show_docs_imports if p is exec_show_docs else p for p in super().base_procs()]
        class NoExec(FilterDefaults):
            def base_procs(self): return [p for p in super().base_procs() if p is not exec_show_docs]
        import copy
        orig = copy.deepcopy(nb)
        try: return F()(nb)
        except Exception as e:  # one broken notebook must not take the site down: its page loses its API docs only
            print(f"docs: WARNING: {getattr(nb, 'path_', '')}: nbdev's show_doc step failed ({type(e).__name__}: "
                  f"{str(e).splitlines()[0] if str(e) else ''}); its page has no API docs", flush=True)
            NoExec()(orig)
            nb.cells, nb.metadata = orig.cells, orig.metadata


def proc(n_workers=2):
    "nbdev's processors on the staged notebooks into _proc/ (show_doc cells, hidden cells, links), as proc_nbs does."
    from fastcore.parallel import parallel
    from nbdev.serve import proc_nbs, _proc_file
    import nbdev.serve, nbdev.serve_drv
    c = cfg()
    cache = ROOT/'_proc'
    sys.path.insert(0, str(ROOT/'tools'))
    import docs_build  # spawned workers unpickle the filter by its module name, so not from __main__
    orig = nbdev.serve._proc_file
    def _pf(*args, **kw):
        r = orig(*args, **kw)
        return (r[0], r[1], docs_build.TolerantFilter) if r and r[2] is not None and r[0].suffix == '.ipynb' else r
    nbdev.serve._proc_file = _pf
    cwd = os.getcwd()
    os.chdir(c.nbs_path)  # notebooks run from nbs/, as nbdev_test runs them
    try: proc_nbs(str(STAGE), n_workers=n_workers)
    finally: nbdev.serve._proc_file, _ = orig, os.chdir(cwd)
    keep = {p.relative_to(STAGE) for p in STAGE.rglob('*')}
    for p in sorted(cache.rglob('*'), reverse=True):  # notebooks deleted or renamed since the last build
        rel = p.relative_to(cache)
        if rel.parts[0].startswith(('.', c.doc_path.name)) or p.is_dir(): continue
        if rel not in keep: p.unlink()
    return cache


def _frontmatter(nb):
    "The YAML front matter that nbdev's processors put in the first (raw or markdown) cell, and that cell."
    import yaml
    if not nb['cells']: return {}, None
    c = nb['cells'][0]
    src = ''.join(c['source'])
    m = re.match(r'\s*---\n(.*?)\n---\s*\n', src, re.S)
    return ((yaml.safe_load(m.group(1)) or {}), c) if m else ({}, None)


def site_src():
    """Copy _proc/ to build/docs/site, naming each page after its `output-file` as Quarto does (00a_data -> data.html),
    with links and sidebar entries to the old names rewritten; smalldocs renders this copy."""
    import yaml
    cache, dest = ROOT/'_proc', BUILD/'site'
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(cache, dest, ignore=shutil.ignore_patterns('.*', '_docs'))
    nbs, ren = {}, {}
    for f in sorted(dest.rglob('*.ipynb')):
        nb = json.loads(f.read_text(encoding='utf-8'))
        fm, cell = _frontmatter(nb)
        out = fm.get('output-file')
        if cell is not None and out:  # smalldocs reads no output-file: drop it, and name the file after it
            cell['source'] = re.sub(r'(?m)^output-file:.*\n', '', ''.join(cell['source']))
            new = f.with_name(Path(out).stem + '.ipynb')
            if new != f and not new.exists() and new not in ren.values(): ren[f] = new
        nbs[f] = nb
    names = {f.relative_to(dest).as_posix(): n.relative_to(dest).as_posix() for f, n in ren.items()}
    def fix(text):
        for o, n in names.items():
            text = re.sub(rf'(?<![\w/.-]){re.escape(o[:-6])}\.(ipynb|html)\b', n[:-6] + r'.\1', text)
        return text
    for f, nb in nbs.items():
        for c in nb['cells']:
            if c['cell_type'] == 'markdown': c['source'] = fix(''.join(c['source']))
        (f.unlink(), ren[f].write_text(json.dumps(nb), encoding='utf-8')) if f in ren else f.write_text(json.dumps(nb), encoding='utf-8')
    for y in dest.glob('*.yml'):
        if not y.is_symlink(): y.write_text(fix(y.read_text(encoding='utf-8')), encoding='utf-8')
    return dest


def _relative_site_links(docs):
    "Links to the published site (site-url, e.g. nbdev's doc links) point into this build instead."
    c = cfg()
    url = (c.get('doc_host', '') + c.get('doc_baseurl', '')).rstrip('/')
    if not url: return
    for f in docs.rglob('*.html'):
        up = '../' * (len(f.relative_to(docs).parts) - 1)
        s = f.read_text(encoding='utf-8')
        t = re.sub(rf'href="{re.escape(url)}/?', f'href="{up}', s)
        if t != s: f.write_text(t, encoding='utf-8')


QUIET = ('format commonmark is not built', 'keep-md is ignored')  # nbdev's _quarto.yml options for Quarto only


def render():
    "Render the pages with smalldocs (no Quarto needed) into the project's doc_path (_docs)."
    from smalldocs.site import build
    src, docs = site_src(), Path(cfg().doc_path)
    site = build(str(src), quiet=True)
    for w in site.warnings:
        if not any(q in w for q in QUIET): say('smalldocs warning:', w)
    shutil.rmtree(docs, ignore_errors=True)
    shutil.move(str(site.out), str(docs))
    _relative_site_links(docs)
    say(f'site written to {docs.relative_to(ROOT)}/ ({len(list(docs.rglob("*.html")))} pages)')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('step', choices=['prep', 'stage', 'proc', 'render', 'offline', 'exec-one'])
    p.add_argument('--check', action='store_true', help='stage: run failed notebooks again, print their tracebacks, exit 1 if any fails')
    p.add_argument('args', nargs='*', help='exec-one: SRC DST')
    p.add_argument('--exec', dest='mode', choices=['all', 'fresh', 'cached', 'none'], default=os.environ.get('DOCS_EXEC', 'all'),
                   help='all: run notebooks the cache lacks; fresh: run all; cached: run none, use the cache; '
                        'none: committed outputs only (env DOCS_EXEC)')
    p.add_argument('--only', default=os.environ.get('DOCS_EXEC_ONLY', ''), help='space-separated notebook names '
                   'that may run (env DOCS_EXEC_ONLY); the others come from the cache or their committed outputs')
    p.add_argument('--n_workers', type=int, default=int(os.environ.get('DOCS_WORKERS', 2)))
    p.add_argument('--timeout', type=int, default=int(os.environ.get('DOCS_NB_TIMEOUT', 300)), help='seconds per notebook')
    a = p.parse_args(argv)
    os.chdir(ROOT)
    if a.step == 'exec-one': return exec_one(*a.args, timeout=a.timeout)
    t0 = time.time()
    tick = lambda step: say(f'{step} took {time.time()-t0:.0f}s')
    if a.step in ('prep', 'offline'): prep()
    if a.step in ('stage', 'offline'):
        if stage(a.mode, a.n_workers, a.timeout, a.check, a.only.split()) and a.check: return 1
        tick('executing')
    if a.step in ('proc', 'offline'): proc(a.n_workers); tick('processing')
    if a.step in ('render', 'offline'): render()
    return 0


if __name__ == '__main__': sys.exit(main())
