#!/usr/bin/env bash
# Debian's chromium for the browser suites (driven by playwright-core, never a downloaded build).
#
#   scripts/chromium.sh        install /usr/bin/chromium if missing, then print its path
#
# Invariants: installs only through apt (as root, or with sudo when available); a flock keeps
# parallel test runs from running apt at the same time; exits non-zero with a message when
# chromium cannot be installed, so the suite fails loudly instead of skipping.
set -euo pipefail

BIN=/usr/bin/chromium
LOCK="${TMPDIR:-/tmp}/checkups-chromium.lock"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "[chromium] need root to install chromium" >&2; exit 1
  fi
}

APT_LOG_PREFIX="[chromium]"
# shellcheck source=lib/apt-retry.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-retry.sh"

if [ ! -x "$BIN" ]; then
  exec 9>"$LOCK"
  flock 9
  if [ ! -x "$BIN" ]; then
    echo "[chromium] installing Debian's chromium (apt-get)" >&2
    apt_retry update -qq >&2 || { echo "[chromium] apt-get update failed 3 times" >&2; exit 1; }
    apt_retry install -y -qq --no-install-recommends chromium >&2 || { echo "[chromium] apt-get install chromium failed 3 times" >&2; exit 1; }
  fi
fi
[ -x "$BIN" ] || { echo "[chromium] $BIN missing after install" >&2; exit 1; }
echo "$BIN"
