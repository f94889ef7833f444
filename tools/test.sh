#!/usr/bin/env bash
# The test suite: notebooks and package agree, notebooks are clean, every notebook runs, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg PYTHONHASHSEED=0
snapshot() { git status --porcelain --untracked-files=all; git diff --no-color | sha1sum; }

echo "== nbdev_export and nbdev_clean must leave the tree unchanged"
before=$(snapshot)
nbdev_export
nbdev_clean
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAILED: nbdev_export/nbdev_clean changed the tree; run them and commit the result:"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi

echo "== nbdev_test (every notebook, CPU, synthetic data; cells flagged slow/cuda are skipped)"
time nbdev_test --n_workers 2 --timing

if [ "$(python -c 'import torch; print(torch.cuda.is_available())')" = "True" ]; then
  echo "== nbdev_test --flags cuda (a GPU is present: the notebooks with cells that run the CUDA path for real)"
  for nb in $(grep -l '"#| cuda' nbs/*.ipynb); do time nbdev_test --path "$nb" --flags cuda; done
else
  echo "== no GPU: cells flagged cuda not run (their decisions are tested on the CPU)"
fi

echo "== Chromium for the docs-site test"
bash tools/ensure_chromium.sh

echo "== pytest"
# Two workers, each test file on one of them (its module fixtures built once); one thread each, so the two workers
# share the two cores instead of fighting over them. The 15 slowest are printed, so a run's time can be read.
time OMP_NUM_THREADS=1 python -m pytest -q -n 2 --dist loadfile --durations=15 tests
