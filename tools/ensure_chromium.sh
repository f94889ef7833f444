#!/usr/bin/env bash
# Make sure headless Chromium (Debian package `chromium`) is installed for tests/test_docs.py.
# Idempotent: does nothing when it is already there. Installs only as root (CI containers, this dev box);
# otherwise says how to install it and exits 0, so the docs test can skip (or fail, in CI) with its own message.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
  echo "ensure_chromium: $CHROMIUM present ($("$CHROMIUM" --version 2>/dev/null | head -1))"
  exit 0
fi
for b in chromium google-chrome chromium-browser; do  # e.g. the Chrome of GitHub's runner images; tests/test_docs.py looks for these too
  if command -v "$b" >/dev/null && [ "$(id -u)" != 0 ]; then echo "ensure_chromium: using $(command -v "$b") ($("$b" --version 2>/dev/null | head -1))"; exit 0; fi
done
if [ "$(id -u)" != 0 ]; then
  echo "ensure_chromium: $CHROMIUM missing and not root; install it with: sudo apt-get install -y --no-install-recommends chromium"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "ensure_chromium: $CHROMIUM missing and no apt-get here; install Chromium and set CHROMIUM=/path/to/it"
  exit 0
fi
echo "ensure_chromium: installing chromium with apt-get (a few minutes the first time)"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq --no-install-recommends chromium >>"$log" 2>&1; then
  echo "ensure_chromium: installed $("$CHROMIUM" --version 2>/dev/null | head -1)"
  rm -f "$log"
else
  echo "ensure_chromium: apt-get failed; last lines of its log:"; tail -n 20 "$log"; rm -f "$log"; exit 1
fi
