#!/usr/bin/env bash
# Build the documentation website into _docs/ (`make docs`; also runs as plain `bash tools/docs.sh`).
#   Notebooks are first executed into build/docs/nbs (cells flagged with settings.ini tst_flags skipped, as in
#   nbdev_test; library warnings off), so the pages show what the code draws now; runs are cached in build/docs/exec. Then, with Quarto on PATH: nbdev's own `nbdev_docs` on them (as the GitHub deploy workflow does).
#   Without Quarto (offline, no binary download): `nbdev_proc_nbs` and smalldocs (pure Python, PyPI), which renders
#   the same Quarto project (_quarto.yml, nbs/nbdev.yml, nbs/sidebar.yml). See tools/docs_build.py.
# Environment: DOCS_RENDERER=auto|quarto|smalldocs
#   DOCS_EXEC=all (run notebooks not cached yet) | fresh (run all) | cached (run none) | none (committed outputs only)
#   DOCS_EXEC_ONLY="00a_data 03_model" (only these may run)  DOCS_NB_TIMEOUT=300 (s per notebook)  DOCS_WORKERS=2
# Look at the result: python -m http.server -d _docs 8000, then open http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."

# The venv's tools when the caller has not put them on PATH (the Makefile does).
if ! python -c 'import nbdev, smalldocs, execnb' 2>/dev/null; then
  if [ -x .venv/bin/python ]; then export PATH="$PWD/.venv/bin:$PATH"
  else echo "docs: needs nbdev and smalldocs: run 'make env' (or make docs) first" >&2; exit 1; fi
fi

# One build at a time in this checkout (they share build/docs, _proc and _docs); tests/test_docs.py holds the lock itself.
mkdir -p build
if [ -z "${DOCS_LOCK_HELD:-}" ] && command -v flock >/dev/null; then
  exec 9>build/docs.lock
  flock -w 1200 9 || { echo "docs: another docs build still holds build/docs.lock" >&2; exit 1; }
fi

renderer=${DOCS_RENDERER:-auto}
if [ "$renderer" = auto ]; then
  if command -v quarto >/dev/null; then renderer=quarto; else renderer=smalldocs; fi
fi
start=$SECONDS
case "$renderer" in
  quarto)
    echo "docs: quarto $(quarto --version) found: building with nbdev_docs"
    python tools/docs_build.py stage
    PYTHONWARNINGS=$(python -c 'import sys; sys.path.insert(0, "tools"); import docs_build; print(docs_build.LIB_WARNINGS)') \
      nbdev_docs --path build/docs/nbs ;;
  smalldocs)
    echo "docs: no quarto: building offline (nbdev_proc_nbs + smalldocs $(python -c 'import smalldocs; print(smalldocs.__version__)'))"
    python tools/docs_build.py offline ;;
  *) echo "docs: DOCS_RENDERER must be auto, quarto or smalldocs, not '$renderer'" >&2; exit 2 ;;
esac
echo "docs: done in $((SECONDS - start))s: _docs/index.html  (serve it: python -m http.server -d _docs 8000)"
