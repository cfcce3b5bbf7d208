#!/usr/bin/env bash
# Packed-install smoke test: what a user gets from the registry, without the workspace.
#
#   scripts/ci/smoke/smoke.sh        (after `pnpm install`, which builds dist/)
#
# 1. `pnpm pack` every package (workspace:* ranges become real versions, `files` applies).
# 2. In an empty directory OUTSIDE the repository (so no node_modules of ours is found by
#    walking up), install the tarballs with plain npm — the shm addon compiles there from its
#    sources — plus the workspace's own TypeScript and @types/node versions for the consumer.
#    Optional peers (ioredis, mysql2, piscina) are deliberately not installed.
# 3. Run check.mjs there: run() with 2 workers + readyOk on loopback, `npx checkups --version`,
#    `checkups --config`, the missing-optional-package error, and `tsc --noEmit` of a strict
#    consumer. The directory is removed afterwards (CHECKUPS_SMOKE_KEEP=1 keeps it).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
dir="$(mktemp -d "${TMPDIR:-/tmp}/checkups-smoke.XXXXXX")"
case "$dir/" in "$root"/*) echo "smoke: $dir is inside the repository" >&2; exit 1 ;; esac
if [ "${CHECKUPS_SMOKE_KEEP:-}" != 1 ]; then trap 'rm -rf "$dir"' EXIT; fi
log() { echo "[smoke] $* ($(($(date +%s) - t0)) s)" >&2; }
t0=$(date +%s)

mkdir -p "$dir/tarballs"
for p in packages/shm packages/shdict packages/checkups packages/runtime apps/server; do
  (cd "$root/$p" && npx -y pnpm@10 pack --pack-destination "$dir/tarballs" >/dev/null)
done
log "packed: $(cd "$dir/tarballs" && echo *.tgz)"

# no tests, sources, build outputs or maps in any tarball
for t in "$dir"/tarballs/*.tgz; do
  bad="$(tar -tzf "$t" | grep -E '(^package/(test|build|src/[^n])|\.tsbuildinfo$|\.map$|\.node$|\.test\.)' || true)"
  if [ -n "$bad" ]; then echo "smoke: $(basename "$t") ships files it must not:" >&2; echo "$bad" >&2; exit 1; fi
done

ver() { node -p "require('$root/node_modules/$1/package.json').version"; }
cp "$here/app.mjs" "$here/check.mjs" "$here/consumer.ts" "$here/tsconfig.json" "$here/tsconfig.libcheck.json" "$dir/"
# as the READMEs tell users: allow the shm addon's build (npm 12 blocks unreviewed install
# scripts; npm 11 warns), deny msgpackr-extract's (its prebuilt binaries load without it).
# A tarball is approved by its file: spec (a registry install by the name, as in the README).
shm_tgz="$(echo "$dir"/tarballs/checkups-shm-*.tgz)"
cat > "$dir/package.json" <<JSON
{
  "name": "checkups-smoke", "version": "0.0.0", "private": true, "type": "module",
  "allowScripts": { "@checkups/shm": true, "file:$shm_tgz": true, "msgpackr-extract": false }
}
JSON
cd "$dir"
npm install --no-audit --no-fund ./tarballs/*.tgz "typescript@$(ver typescript)" "@types/node@$(ver @types/node)" 2>&1 | tee install.log
log "installed with npm $(npm --version) on node $(node --version)"
# a user's install must print no warnings about our packages (engines, peers, deprecations,
# install scripts)
if grep -i 'warn' install.log | grep -i 'checkups\|msgpackr\|install-scripts'; then
  echo "smoke: npm warned about our packages (above)" >&2; exit 1
fi
test -f node_modules/@checkups/shm/build/Release/shm.node || { echo "smoke: the shm addon was not built" >&2; exit 1; }
for p in ioredis mysql2 piscina; do
  if [ -e "node_modules/$p" ]; then echo "smoke: optional peer $p was installed" >&2; exit 1; fi
done

node check.mjs
log "passed"
