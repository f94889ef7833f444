"""The declared requirements (settings.ini) are exactly what the package imports, and the pinned development set meets them.

Every `import`/`from` statement of `hpa_protein/*.py` is read with `ast`. An import inside a `try` whose handler catches
`ImportError` (or `Exception`) is optional: the package works without it. Top-level module names map to the
distributions that provide them through the installed metadata (`cv2` -> opencv-python-headless, `PIL` -> pillow,
`iterstrat` -> iterative-stratification, ...); the standard library is `sys.stdlib_module_names`.
"""
import ast, re, sys
from configparser import ConfigParser
from importlib.metadata import packages_distributions, version
from pathlib import Path
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

root = Path(__file__).resolve().parent.parent
PKG = 'hpa_protein'
# Optional imports that need no declaration, with the reason
UNDECLARED_OPTIONAL = {'IPython': 'only asked whether code runs in a notebook kernel, which always has it'}
EXTRAS = ('opencv_requirements', 'gradcam_requirements', 'timm_requirements')  # settings.ini keys of the optional requirements (setup.py extras)

def cfg():
    c = ConfigParser(delimiters=['=']); c.read(root/'settings.ini'); return c['DEFAULT']

def reqs(key) -> dict:
    "Canonical distribution name -> `Requirement` of a settings.ini key."
    return {canonicalize_name(r.name): r for r in map(Requirement, cfg().get(key, '').split())}

def extra_reqs() -> dict:
    "`reqs` of every optional group together."
    return {k: v for key in EXTRAS for k, v in reqs(key).items()}

def _catches_import_error(t) -> bool:
    for h in t.handlers:
        if h.type is None: return True
        for n in (h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]):
            if isinstance(n, ast.Name) and n.id in ('ImportError', 'ModuleNotFoundError', 'Exception', 'BaseException'): return True
    return False

def imports(src:str) -> list:
    "`(top-level module, optional)` of every absolute import in `src`."
    res = []
    def visit(node, optional):
        if isinstance(node, ast.Try):
            guarded = optional or _catches_import_error(node)
            for n in node.body: visit(n, guarded)
            for n in node.handlers + node.orelse + node.finalbody: visit(n, optional)
            return
        if isinstance(node, ast.Import): res.extend((a.name.split('.')[0], optional) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0: res.append((node.module.split('.')[0], optional))
        for n in ast.iter_child_nodes(node): visit(n, optional)
    visit(ast.parse(src), False)
    return res

def package_imports() -> dict:
    "Third-party top-level module -> True if every import of it is optional, with the files importing it."
    mods = {}
    for fn in sorted((root/PKG).glob('*.py')):
        for m, opt in imports(fn.read_text()):
            if m in sys.stdlib_module_names or m == PKG: continue
            o, fns = mods.get(m, (True, set()))
            mods[m] = (o and opt, fns | {fn.name})
    return mods

def dists(module) -> set:
    return {canonicalize_name(d) for d in packages_distributions().get(module, [])}

def test_scanner_sees_optional_and_required_imports():
    src = ("import os, numpy as np\nfrom fastai.learner import Learner\nfrom .data import x\n"
           "try:\n    import cv2\nexcept ImportError: cv2 = None\n"
           "def f():\n    try: from IPython import get_ipython\n    except Exception: pass\n    import seaborn\n"
           "try:\n    import torch\nexcept KeyError: pass\n")
    assert imports(src) == [('os', False), ('numpy', False), ('fastai', False), ('cv2', True), ('IPython', True),
                            ('seaborn', False), ('torch', False)]

def test_every_import_is_declared():
    declared, extras = reqs('requirements'), extra_reqs()
    for m, (optional, fns) in package_imports().items():
        ds = dists(m)
        assert ds, f'{m} (imported by {sorted(fns)}) is provided by no installed distribution'
        if optional:
            assert ds & (set(extras) | set(declared)) or m in UNDECLARED_OPTIONAL, \
                f'optional import {m} ({sorted(fns)}): declare {sorted(ds)} in one of {EXTRAS} or list it in UNDECLARED_OPTIONAL'
        else: assert ds & set(declared), f'{m} is imported by {sorted(fns)}: add {sorted(ds)} to requirements in settings.ini'

def test_every_declared_requirement_is_imported():
    mods = package_imports()
    required = set().union(*(dists(m) for m, (opt, _) in mods.items() if not opt))
    optional = set().union(*(dists(m) for m, (opt, _) in mods.items() if opt))
    for name in reqs('requirements'): assert name in required, f'{name} is in requirements but no module of {PKG} imports it unconditionally'
    for key in EXTRAS:
        for name in reqs(key): assert name in optional, f'{name} ({key}) is an optional requirement but nothing imports it optionally'
    assert not set(reqs('requirements')) & set(extra_reqs())

def test_python_and_lower_bounds():
    assert Version(cfg()['min_python']) >= Version('3.10'), 'fastai 2.8 and torch 2.x need Python >= 3.10'
    r = reqs('requirements')
    lower = lambda n: min((Version(s.version) for s in r[n].specifier if s.operator in ('>=', '==', '~=')), default=None)
    assert lower('fastai') >= Version('2.8'), 'hpa_protein.loaders imports fasttransform, on which fastai builds since 2.8'
    assert lower('torch') >= Version('1.13'), 'torch.load(weights_only=...)'
    assert lower('torchvision') >= Version('0.14'), 'torchvision.models.get_model_weights'

def test_installed_and_pinned_versions_meet_the_requirements():
    pins = dict(canonical_pin(l) for l in (root/'requirements-dev.txt').read_text().splitlines() if re.match(r'^[A-Za-z]', l))
    for name, r in {**reqs('requirements'), **extra_reqs()}.items():
        assert r.specifier.contains(version(name), prereleases=True), f'installed {name} {version(name)} does not meet {r}'
        assert name in pins, f'{name} is a requirement but is not pinned in requirements-dev.txt'
        assert r.specifier.contains(pins[name], prereleases=True), f'requirements-dev.txt pins {name}=={pins[name]}, outside {r}'

def canonical_pin(line):
    name, v = line.split('#')[0].strip().split('==')
    return canonicalize_name(name), v.strip()
