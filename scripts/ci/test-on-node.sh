#!/usr/bin/env bash
# Run the README's test command on another Node release, in a copy of this tree.
#
#   scripts/ci/test-on-node.sh 24        # installs Node 24 (scripts/ci/node.sh), then tests
#   scripts/ci/test-on-node.sh 26 test/shdict-lock.test.ts ...   # only these test files
#
# The native addon (packages/shm) and node_modules are built for one Node ABI, so the other
# Node gets its own copy of the tree under tmp/ci/node-<major>/ (tracked and untracked files,
# minus what git ignores) rather than a rebuild in place that would leave this tree built for
# the wrong Node. node-gyp finds that Node's headers through npm_config_nodedir. The copy is
# replaced on every run.
set -euo pipefail

major="${1:?usage: scripts/ci/test-on-node.sh <major|version> [test files...]}"
shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$("$root/scripts/ci/node.sh" "$major")"
dest="$root/tmp/ci/node-$major"

rm -rf "$dest"
mkdir -p "$dest"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  tar -cf - --null --no-recursion --ignore-failed-read -T - 2>/dev/null) | tar -xf - -C "$dest"

export PATH="$bin:$PATH"
export npm_config_nodedir="$(dirname "$bin")"
echo "[test-on-node] $(node --version) in $dest" >&2
cd "$dest"
npx -y pnpm@10 install --frozen-lockfile
if [ $# -eq 0 ]; then
  npx -y pnpm@10 test
else
  npx tsc -b && npx vitest run "$@"
fi
