__version__ = "0.1.0"

# The commands (console scripts, all named hpa_*) start with their own output, not with a deprecation notice that a
# library raises while it is imported (torch's `torch.jit.script` FutureWarning, raised by importing fastai). Only
# third-party FutureWarnings are silenced, only in the commands; the project's own warnings are untouched.
import sys as _sys, warnings as _warnings
if _sys.argv and _sys.argv[0].replace('\\', '/').rsplit('/', 1)[-1].startswith('hpa_'):
    for _m in ('torch', 'fastai', 'fastcore', 'torchvision'): _warnings.filterwarnings('ignore', category=FutureWarning, module=_m)
