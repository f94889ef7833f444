"""The docs site in a real browser: build it (tools/docs.sh), serve it on 127.0.0.1, open every page in headless Chromium.

Checks each page loads with no failed request, no JavaScript error, no broken internal link (file or #anchor), every
<img> decoded (naturalWidth > 0) and every figure not blank; the pages of the six blog notebooks show their figures
at a readable size (at least one, and every one, 400 px wide or more, and none below 80% of its drawn width at a
1280-px window) and no output cut off; no page names an absolute path of the machine that built it, nor a code block
a raw markdown link; each notebook has its page, with a show_doc
block for every public export; the sidebar lists the notebooks in reading order, the usage page after them; the home page
shows its sections, the two commands, the demo model's per-class F1 figure and links to the six blog notebooks; the usage
page has its sections (README.md is the two pages together); search finds the API. Chromium is driven with Playwright (PyPI `playwright`, in requirements-dev.txt), launched on the system
Chromium through `executable_path`: no browser is downloaded (never `playwright install`).

Skips when Chromium or Playwright is missing, unless CI=true (then it fails): install Chromium with
tools/ensure_chromium.sh. Fails with both versions named when this Playwright cannot drive this Chromium.
Environment: DOCS_TEST_BUILD=0 uses the _docs/ already built; DOCS_TEST_EXEC_ONLY (default `00a_data`: the notebook
whose figure is checked; `all` for every notebook) says which notebooks the build may execute, the others coming from
build/docs/exec (what `make docs` ran) or their committed outputs; the build runs with an empty HPA_HOME (a fresh
machine: the synthetic set is made anew by the notebook that needs it first); DOCS_TEST_FRESH=1 runs every notebook
anew (DOCS_EXEC=fresh: ~10 min on 2 cores), the check of a fresh `make docs`; DOCS_SHOTS=DIR saves a screenshot of every page.
"""
import fcntl, functools, glob, http.server, json, os, re, shutil, subprocess, threading, time
from pathlib import Path
from urllib.parse import urlsplit, unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT/'_docs'
IN_CI = os.environ.get('CI', '').lower() in ('1', 'true', 'yes')
FIGURE_NB = 'nbs/00a_data.ipynb'  # finished, with a figure: its page must show it
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', '--mute-audio']


def chromium_path():
    "$CHROMIUM when set (only it), else /usr/bin/chromium or a Chromium/Chrome on PATH."
    cands = [os.environ['CHROMIUM']] if os.environ.get('CHROMIUM') else [
        '/usr/bin/chromium', shutil.which('chromium'), shutil.which('google-chrome'), shutil.which('chromium-browser')]
    return next((c for c in cands if c and os.path.isfile(c) and os.access(c, os.X_OK)), None)


def _versions(exe) -> str:
    "This Playwright's version and the Chromium it is built for, and the Chromium at `exe`."
    from importlib.metadata import version
    import playwright
    try:
        f = glob.glob(os.path.join(os.path.dirname(playwright.__file__), 'driver', 'package', 'browsers.json'))[0]
        want = next(b['browserVersion'] for b in json.load(open(f))['browsers'] if b['name'] == 'chromium')
    except Exception: want = '?'
    try: have = subprocess.run([exe, '--version'], capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e: have = f'{exe} (--version failed: {e})'
    return f"Playwright {version('playwright')} (built for Chromium {want}) and {have}"


class Browser:
    "Headless Chromium at `exe`, driven by Playwright: one page, with what each navigation loaded, failed or threw."
    def __init__(self, exe, timeout=30):
        from playwright.sync_api import sync_playwright
        self.pw = sync_playwright().start()
        try:
            self.browser = self.pw.chromium.launch(executable_path=exe, args=FLAGS, timeout=timeout*1000)
            self.page = self.browser.new_page(viewport={'width': 1280, 'height': 900})
            self.page.evaluate('1 + 1')
        except Exception as e:
            self.pw.stop()
            pytest.fail(f'Playwright could not drive Chromium: {_versions(exe)} do not work together '
                        f'({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}); pin a playwright release built '
                        f'for a Chromium near this one in requirements-dev.txt, or set CHROMIUM to a matching browser')
        self.page.set_default_timeout(timeout*1000)
        self.events = []
        p = self.page
        p.on('response', lambda r: self.events.append(('response', r.url, r.status, r.request.resource_type)))
        p.on('requestfailed', lambda r: self.events.append(('failed', r.url, r.failure)))
        p.on('pageerror', lambda e: self.events.append(('error', str(e))))

    def goto(self, url): self.page.goto(url, wait_until='load')

    def js(self, expr): return self.page.evaluate(expr)

    def close(self):
        try: self.browser.close()
        finally: self.pw.stop()


# What each page reports once loaded: its images (decoded? blank?), links, anchors, sidebar and text.
INSPECT = r"""(async () => {
  await Promise.all([...document.images].map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })));
  const imgs = [...document.images].map(i => {
    let range = null;
    if (i.naturalWidth > 0) try {
      const c = document.createElement('canvas'), w = c.width = Math.min(i.naturalWidth, 300);
      const h = c.height = Math.max(1, Math.round(i.naturalHeight * w / i.naturalWidth)), x = c.getContext('2d');
      x.drawImage(i, 0, 0, w, h);
      const d = x.getImageData(0, 0, w, h).data; let lo = 255, hi = 0;
      for (let k = 0; k < d.length; k += 4) { const v = (d[k] + d[k+1] + d[k+2]) / 3; lo = Math.min(lo, v); hi = Math.max(hi, v); }
      range = hi - lo;
    } catch (e) { range = -1; }
    return {src: i.getAttribute('src').slice(0, 60), w: i.naturalWidth, h: i.naturalHeight, range,
            shown: Math.round(i.getBoundingClientRect().width),
            figure: !!i.closest('.cell-output, .cell-output-display, figure')};
  });
  // outputs wider than the room they have and not in a box that scrolls: cut off at the page's edge, or over the contents
  const main = document.querySelector('main') || document.body, cut = [];
  for (const e of main.querySelectorAll('.cell-output pre, .cell-output-display pre, .cell-output-display table, .cell-output-display img')) {
    let a = e.parentElement, box = main;
    for (; a && a !== main; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'auto' || ox === 'scroll') break;
      if ([...a.classList].some(c => c.startsWith('column-'))) { box = a; break; }
    }
    if (a && a !== main && box === main) continue;  // it scrolls in its box
    const r = e.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (r.width > 0 && r.right > b.right + 1)
      cut.push({what: e.tagName.toLowerCase(), text: (e.innerText || e.getAttribute('src') || '').slice(0, 60), right: Math.round(r.right), room: Math.round(b.right)});
  }
  const outputs = [...main.querySelectorAll('.cell-output, .cell-output-display, .cell-output-stdout, .cell-output-stderr')]
    .filter(e => !e.parentElement.closest('.cell-output, .cell-output-display, .cell-output-stdout, .cell-output-stderr'))
    .map(e => e.innerText);
  return {title: document.title, imgs, cut, outputs, pre: [...document.querySelectorAll('pre')].map(p => p.innerText), headings: [...document.querySelectorAll('h1, h2, h3')].map(h => h.textContent.trim()), text: document.body.innerText.length,
          links: [...document.querySelectorAll('a[href]')].map(a => a.href),
          ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
          sidebar: [...document.querySelectorAll('#quarto-sidebar a[href]')].map(a => a.href),
          search: !!document.querySelector('#quarto-search'),
          generator: (document.querySelector('meta[name=generator]') || {content: ''}).content};
})()"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    failures = []
    def log_message(self, fmt, *args): pass
    def send_error(self, code, *a, **k):
        QuietHandler.failures.append((code, self.path))
        super().send_error(code, *a, **k)


@pytest.fixture(scope='module')
def chromium():
    exe = chromium_path()
    if not exe:
        msg = 'headless Chromium not found (/usr/bin/chromium): run tools/ensure_chromium.sh (as root) or set CHROMIUM'
        if IN_CI: pytest.fail(msg + ' -- CI=true, so the docs check cannot be skipped')
        pytest.skip(msg)
    try: import playwright.sync_api  # noqa: F401
    except ImportError:
        msg = 'Playwright missing: pip install -r requirements-dev.txt (its browser download is not needed: the system Chromium is used)'
        if IN_CI: pytest.fail(msg + ' -- CI=true, so the docs check cannot be skipped')
        pytest.skip(msg)
    return exe


BUILD_ENV = {}  # what the `site` fixture's build ran with (its HPA_HOME)


@pytest.fixture(scope='module')
def site(chromium, tmp_path_factory):
    """The built site: tools/docs.sh run now (unless DOCS_TEST_BUILD=0), served on a free port of 127.0.0.1.
    The build is fresh where it runs notebooks: an empty HPA_HOME (the synthetic set made anew, as on a machine that
    never made it) and no HPA_PATH or HPA_KAGGLE_ROOT; DOCS_TEST_FRESH=1 runs every notebook anew (DOCS_EXEC=fresh)."""
    (ROOT/'build').mkdir(exist_ok=True)
    lock = open(ROOT/'build'/'docs.lock', 'w')
    fcntl.flock(lock, fcntl.LOCK_EX)  # no other docs build in this checkout while this one is built and browsed
    if os.environ.get('DOCS_TEST_BUILD', '1') != '0':
        fresh = os.environ.get('DOCS_TEST_FRESH', '0') == '1'
        only = 'all' if fresh else os.environ.get('DOCS_TEST_EXEC_ONLY', Path(FIGURE_NB).stem)
        home = tmp_path_factory.mktemp('hpa_home')
        BUILD_ENV['HPA_HOME'] = str(home)
        env = {k: v for k, v in os.environ.items() if k not in ('HPA_PATH', 'HPA_KAGGLE_ROOT')}
        env.update({'DOCS_EXEC_ONLY': '' if only == 'all' else only, 'DOCS_LOCK_HELD': '1', 'HPA_HOME': str(home)})
        if fresh: env['DOCS_EXEC'] = 'fresh'
        t0 = time.time()
        try: r = subprocess.run(['bash', 'tools/docs.sh'], cwd=ROOT, env=env, capture_output=True, text=True)
        finally: shutil.rmtree(home, ignore_errors=True)  # the synthetic set, when a notebook made it (~1 GB)
        print(f'docs build: {time.time()-t0:.0f}s\n' + r.stdout[-3000:])
        assert r.returncode == 0, f'tools/docs.sh failed:\n{r.stdout[-5000:]}\n{r.stderr[-5000:]}'
    assert (DOCS/'index.html').exists(), f'no site in {DOCS}: run make docs'
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(QuietHandler, directory=str(DOCS)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown(); srv.server_close()
    lock.close()


@pytest.fixture(scope='module')
def pages(site, chromium):
    "Every HTML page of the site, opened in Chromium: {relative path: report}."
    b, res = Browser(chromium), {}
    shots = Path(os.environ['DOCS_SHOTS']) if os.environ.get('DOCS_SHOTS') else None
    try:
        for f in sorted(DOCS.rglob('*.html')):
            rel = f.relative_to(DOCS).as_posix()
            if rel.startswith('site_libs/'): continue
            QuietHandler.failures.clear()
            n = len(b.events)
            b.goto(site + rel)
            rep = b.js(INSPECT)
            b.page.wait_for_timeout(50)  # late events (Playwright delivers them while it waits)
            ev = b.events[n:]
            rep['status'] = [e[2] for e in ev if e[0] == 'response' and e[3] == 'document']
            rep['failed'] = [(e[2], e[1]) for e in ev if e[0] == 'response' and e[2] >= 400 and not e[1].endswith('/favicon.ico')]
            lost = [(e[2], e[1]) for e in ev if e[0] == 'failed' and 'ERR_ABORTED' not in (e[2] or '')]  # aborted: cancelled by the page
            rep['failed'] += [l for l in lost if l[1].startswith(site)]
            rep['external_failed'] = [l for l in lost if not l[1].startswith(site)]  # no internet here: reported, not failed
            rep['failed'] += [f for f in QuietHandler.failures if f[1] != '/favicon.ico']  # Chromium asks for it unasked
            rep['js_errors'] = [e[1] for e in ev if e[0] == 'error']
            if rel == 'index.html' and rep['generator'].startswith('smalldocs'): rep['search_hits'] = search_hits(b)
            if shots:
                shots.mkdir(parents=True, exist_ok=True)
                b.page.screenshot(path=str(shots/(rel.replace('/', '__')[:-5] + '.png')))
                box = b.js("""(() => { const i = [...document.images].find(i => i.closest('.cell-output, figure'));
                    if (!i) return null; const r = i.getBoundingClientRect();
                    return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; })()""")
                if box and box['width'] > 0 and box['height'] > 0:  # the page's first figure, as the browser draws it
                    b.page.screenshot(path=str(shots/(rel.replace('/', '__')[:-5] + '__figure.png')), clip=box, full_page=True)
            res[rel] = rep
    finally: b.close()
    return res


def search_hits(b, term='read_labels'):
    "Type `term` in smalldocs' search box and return the result links."
    b.js(f"""(() => {{ const i = document.querySelector('#quarto-search input') || document.querySelector('#quarto-search');
        i.focus(); i.value = {json.dumps(term)}; i.dispatchEvent(new Event('input', {{bubbles: true}}));
        i.dispatchEvent(new KeyboardEvent('keyup', {{bubbles: true, key: 'l'}})); }})()""")
    for _ in range(300):   # up to 30 s: the index loads while other tests may share the CPU
        hits = b.js("[...document.querySelectorAll('#quarto-search a[href], .aa-Panel a[href]')].map(a => a.href)")
        if hits: return hits
        time.sleep(0.1)
    return []


def page_of(nb):
    "The page a notebook renders to: nbdev's output-file (00a_data -> data.html) when the site has it."
    try: from nbdev.doclinks import _nbpath2html
    except ImportError: _nbpath2html = lambda p: p.with_name(re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.name.lower())).with_suffix('.html')
    name = _nbpath2html(Path(nb)).name
    return name if (DOCS/name).exists() else Path(nb).stem + '.html'


def test_every_page_loads(pages):
    nbs = sorted(p for p in (ROOT/'nbs').glob('*.ipynb'))
    assert len(pages) >= len(nbs), f'{len(nbs)} notebooks but {len(pages)} pages: {sorted(pages)}'
    for nb in nbs: assert page_of(nb) in pages, f'no page for {nb.name}'
    bad = {p: {k: r[k] for k in ('status', 'failed', 'js_errors') if r[k] and (k != 'status' or r[k] != [200])}
           for p, r in pages.items()}
    bad = {p: v for p, v in bad.items() if v or not pages[p]['title'] or pages[p]['text'] < 50}
    assert not bad, f'pages that did not load cleanly: {json.dumps(bad, indent=1)}'


def _target(url, site_root):
    "The file and anchor an internal link points to, or None for an external link."
    u = urlsplit(url)
    if f'{u.scheme}://{u.netloc}/' != site_root: return None
    path = unquote(u.path).lstrip('/') or 'index.html'
    if path.endswith('/'): path += 'index.html'
    return path, unquote(u.fragment)


def test_no_broken_internal_links(pages, site):
    broken = []
    for p, r in pages.items():
        for url in set(r['links']):
            t = _target(url, site)
            if not t: continue
            path, frag = t
            if not (DOCS/path).is_file(): broken.append(f'{p}: {url} (no file {path})')
            elif frag and path in pages and frag not in pages[path]['ids']: broken.append(f'{p}: {url} (no #{frag})')
    assert not broken, 'broken internal links:\n' + '\n'.join(sorted(broken))


def test_images_and_figures(pages):
    bad = [f"{p}: {i['src']} ({i['w']}x{i['h']}, range {i['range']})" for p, r in pages.items() for i in r['imgs']
           if i['w'] == 0 or (i['figure'] and i['range'] is not None and i['range'] < 8)]
    assert not bad, 'images that did not load, or blank figures:\n' + '\n'.join(bad)
    fig_page = page_of(ROOT/FIGURE_NB)
    figs = [i for i in pages[fig_page]['imgs'] if i['figure']]
    assert figs, f'{fig_page} (from {FIGURE_NB}) shows no figure: is the notebook executed by the docs build?'
    assert all(i['w'] >= 100 and i['h'] >= 50 for i in figs), figs


def machine_paths():
    """The absolute paths of this machine a page could leak: the checkout, the Python environment and its base, the home
    folder, hpa_protein's data home (`HPA_HOME`, the synthetic set; the one the `site` build ran with too) and dataset
    (`HPA_PATH`), mkdtemp's folders in the temporary folder (/tmp/tmpXXXXXXXX: prose may show `/tmp/synth` as an example)."""
    import sys, tempfile
    ps = {ROOT, ROOT.resolve(), Path(sys.prefix), Path(sys.base_prefix), Path(sys.prefix).resolve(), Path.home(),
          Path('~/.cache/hpa_protein').expanduser(), Path(tempfile.gettempdir())/'tmp'}  # tmp...: mkdtemp's folders
    ps |= {Path(os.environ[k]).expanduser() for k in ('HPA_HOME', 'HPA_PATH', 'VIRTUAL_ENV') if os.environ.get(k)}
    ps |= {Path(BUILD_ENV[k]) for k in ('HPA_HOME',) if BUILD_ENV.get(k)}
    return sorted({str(p) for p in ps if len(p.parts) > 1}, key=len, reverse=True)


# Any absolute path of a POSIX machine in an output (a folder at the root of the file system, then a name), whichever
# machine built the page: home, temporary, work and install folders. Prose and code may name a path as an example
# (`--dest /tmp/synth`); an output printing one shows where the notebook ran.
ABS_PATH = re.compile(r'(?<![\w.:/~%-])/(?:root|home|tmp|var|work|Users|private|usr|opt|mnt|srv|content|workspace|builds|github)/[^\s\'"<>)\]:,]*')


def test_no_machine_paths(site, pages):
    """No page names an absolute path of the machine that built it: none of `machine_paths()` anywhere in a page or the
    search index, and no absolute path at all in a cell's output (a temporary folder, the synthetic set's cache, an
    install path in a library warning). Run on a fresh build: the `site` fixture builds with an empty HPA_HOME (the
    synthetic set made anew, as on a machine that never made it); DOCS_TEST_FRESH=1 also runs every notebook anew."""
    mine = machine_paths()
    files = sorted(DOCS.rglob('*.html')) + sorted(DOCS.glob('search.json'))
    leaks = []
    for p, r in pages.items():
        for o in r['outputs']:
            for m in ABS_PATH.finditer(o):
                line = o[o.rfind('\n', 0, m.start()) + 1:].split('\n', 1)[0]
                leaks.append(f'{p}: in an output: {line.strip()[:200]}')
    pat = re.compile('|'.join(re.escape(m) + (r'\w{8}' if m.endswith('/tmp') else r'(?![\w.-])') for m in mine)
                     + r'|site-packages/')
    shown = '\n'.join(leaks)
    for f in files:
        rel = f.relative_to(DOCS).as_posix()
        if rel.startswith('site_libs/'): continue
        t = f.read_text(errors='ignore')
        leaks += [f'{rel}: {t[max(0, m.start() - 60):m.end() + 40]!r}' for m in pat.finditer(t)
                  if not (rel in pages and re.match(r'[^\s\'"<&]*', t[m.start():]).group(0) in shown)]
    assert not leaks, 'pages that name a path of the machine that built them:\n' + '\n'.join(dict.fromkeys(leaks))


def test_no_markdown_links_in_code(pages):
    "No code block shows a markdown link as text (nbdev links the `names` of show_doc's signature comments too)."
    bad = [f'{p}: {m.group(0)}' for p, r in pages.items() for t in r['pre']
           for m in re.finditer(r'\[`?[\w.]+(\(\))?`?\]\([^)\s]+\)', t)]
    assert not bad, 'raw markdown links inside code on the pages:\n' + '\n'.join(dict.fromkeys(bad))


BLOG = ['00_eda', '01_split', '02_stats', '03_model', '04_thresholds', '05_predict']  # the series, read as a blog
MIN_FIG_W = 400  # px: a figure narrower than this is unreadable on the page


@pytest.mark.parametrize('nb', BLOG)
def test_blog_pages_show_their_figures(pages, nb):
    "Each blog page shows at least one figure at least 400 px wide, and no figure narrower than that."
    page = page_of(ROOT/'nbs'/f'{nb}.ipynb')
    assert page in pages, f'no page for {nb}.ipynb'
    figs = [i for i in pages[page]['imgs'] if i['figure']]
    desc = lambda fs: [f"{i['src']}.. ({i['w']}x{i['h']})" for i in fs]
    assert any(i['w'] >= MIN_FIG_W for i in figs), \
        f'{page} (from {nb}.ipynb) shows no figure {MIN_FIG_W} px wide or more; its figures: {desc(figs)}'
    small = [i for i in figs if i['w'] < MIN_FIG_W]
    assert not small, f'{page} (from {nb}.ipynb): figures narrower than {MIN_FIG_W} px: {desc(small)}'


MIN_SCALE = 0.8  # a figure shown below 80% of its drawn width has text too small to read (110 dpi: 8-pt text -> <10 px)


@pytest.mark.parametrize('nb', BLOG)
def test_blog_figures_near_their_drawn_size(pages, nb):
    """At a 1280-px window every figure of a blog page is shown at 80% of its drawn width (naturalWidth) or more: a figure
    wider than the text column uses the page's width (tools/docs_build.py widen_figures); wider still, it is drawn too wide."""
    page = page_of(ROOT/'nbs'/f'{nb}.ipynb')
    assert page in pages, f'no page for {nb}.ipynb'
    figs = [(k, i) for k, i in enumerate(i for i in pages[page]['imgs'] if i['figure'])]
    small = [f"figure {k + 1} of {len(figs)} ({i['src'][:40]}..): drawn {i['w']}x{i['h']} px, shown {i['shown']} px wide "
             f"({i['shown'] / i['w']:.0%})" for k, i in figs if i['w'] and i['shown'] < MIN_SCALE * i['w']]
    assert not small, (f'{page} (from {nb}.ipynb) shrinks figures below {MIN_SCALE:.0%} of their drawn width at 1280 px '
                       f'(at most ~{int(930 / MIN_SCALE)} px fits; at 110 dpi a figure {930 / MIN_SCALE / 110:.1f} in wide):\n'
                       + '\n'.join(small))


@pytest.mark.parametrize('nb', BLOG)
def test_blog_outputs_not_cut_off(pages, nb):
    "No output of a blog page (a training log's table) reaches past the room it has without scrolling in its own box."
    page = page_of(ROOT/'nbs'/f'{nb}.ipynb')
    assert not pages[page]['cut'], f"{page} (from {nb}.ipynb): outputs cut off or over the contents: {pages[page]['cut']}"


def test_sidebar_in_reading_order(pages, site):
    "index first, the numbered notebooks in order, then the usage page."
    expected = ['index.html'] + [page_of(nb) for nb in sorted((ROOT/'nbs').glob('*.ipynb')) if nb.name != 'index.ipynb']
    assert expected[-1] == page_of(ROOT/'nbs'/'usage.ipynb'), expected
    for p in ('index.html', page_of(ROOT/FIGURE_NB)):
        side = [t[0] for t in map(lambda u: _target(u, site), pages[p]['sidebar']) if t and t[0].endswith('.html')]
        side = list(dict.fromkeys(side))
        assert [s for s in side if s in expected] == expected, f'sidebar of {p}: {side}, expected {expected}'


def _md_headings(nb):
    "The section headings of a notebook's markdown cells (outside code blocks)."
    text = '\n'.join(''.join(c['source']) for c in json.loads((ROOT/'nbs'/nb).read_text(encoding='utf-8'))['cells']
                     if c['cell_type'] == 'markdown')
    return [h.strip() for h in re.findall(r'^##+ (.+)$', re.sub(r'```.*?```', '', text, flags=re.S), re.M)]


HOME_FIG = 'images/demo_test_f1.png'  # the demo model's per-class test F1, drawn by tools/home_figure.py from the series' run


def test_home_page(pages, site):
    "The short home page: its sections, the two commands, links to the six blog notebooks' pages and the usage page."
    home = pages['index.html']
    missing = [h for h in _md_headings('index.ipynb') if not any(h in x for x in home['headings'])]
    assert not missing, f"sections of nbs/index.ipynb missing from the home page: {missing}; its headings: {home['headings']}"
    cmds = [l.split('#')[0].strip() for p in home['pre'] for l in p.splitlines()]
    assert 'make demo' in cmds and 'make test' in cmds, f"the home page does not show the two commands: {home['pre']}"
    targets = {t[0] for t in (_target(u, site) for u in home['links']) if t}
    for nb in BLOG:
        page = page_of(ROOT/'nbs'/f'{nb}.ipynb')
        assert page in targets and (DOCS/page).is_file(), f'the home page does not link to {page} (from {nb}.ipynb)'
    assert page_of(ROOT/'nbs'/'usage.ipynb') in targets, 'the home page does not link to the usage page'


def test_home_page_figure(pages):
    "The home page shows the demo model's per-class F1 (nbs/images/demo_test_f1.png) at a readable size."
    assert (ROOT/'nbs'/HOME_FIG).is_file(), f'nbs/{HOME_FIG} does not exist: run the series, then python tools/home_figure.py'
    imgs = pages['index.html']['imgs']
    figs = [i for i in imgs if i['src'].endswith(HOME_FIG)]
    assert figs and all(i['w'] >= MIN_FIG_W for i in figs), f"{HOME_FIG} not shown {MIN_FIG_W} px wide or more: {imgs}"


def test_home_search(pages, site):
    "A search box on the home page; every page with sections in search.json; searching finds the API."
    home = pages['index.html']
    assert home['search'], 'no search box on the home page'
    idx = json.loads((DOCS/'search.json').read_text(encoding='utf-8'))
    indexed = {e['href'].split('#')[0] for e in idx}
    missing = [p for p, r in pages.items() if p not in indexed and len(r['headings']) > 1]  # a stub has only its title
    assert not missing, f'pages with sections missing from search.json: {missing}'
    if 'search_hits' not in home: return  # Quarto's search box opens a detached panel: search.json is checked above
    hits = [_target(u, site) for u in home['search_hits']]
    assert any(h and h[0] == page_of(ROOT/FIGURE_NB) for h in hits), f"searching read_labels found {home.get('search_hits')}"


def test_usage_page_loads_with_its_sections(pages):
    "nbs/usage.ipynb has its page, with every section README.md takes from it."
    page = page_of(ROOT/'nbs'/'usage.ipynb')
    assert page in pages, f'no page for usage.ipynb: {sorted(pages)}'
    heads = _md_headings('usage.ipynb')
    missing = [h for h in heads if not any(h in x for x in pages[page]['headings'])]
    assert heads and not missing, f"sections of nbs/usage.ipynb missing from {page}: {missing}"


def _exported_names(nb):
    "Public functions and classes defined in a notebook's `#| export` cells: nbdev gives each a show_doc block."
    import ast
    names = []
    for c in json.loads(nb.read_text(encoding='utf-8'))['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or not re.search(r'^#\|\s*exports?\s*$', src, re.M): continue
        try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        for t in tree.body:
            if isinstance(t, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not t.name.startswith('_') \
               and not any('patch' in ast.unparse(d) for d in t.decorator_list):
                names.append(t.name)
    return names


def test_api_docs_for_every_export(pages):
    missing = {}
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        ids = {i.lower() for i in pages[page_of(nb)]['ids']}
        gone = [n for n in _exported_names(nb) if n.lower() not in ids]
        if gone: missing[page_of(nb)] = gone
    assert not missing, f'exports without API docs (show_doc) on their page: {missing}'
