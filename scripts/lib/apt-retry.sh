# Sourced by scripts/services.sh and scripts/chromium.sh (each defines `as_root`).
#
#   apt_retry ARGS...   `apt-get ARGS`, non-interactive, as root, tried up to 3 times 10 s apart
#
# A fresh machine's first apt run may meet a mirror or lock hiccup, which should not fail the
# suite. apt's own output stays on stdout (callers redirect it); the retry messages go to
# stderr, prefixed with $APT_LOG_PREFIX.
apt_retry() {
  local try
  for try in 1 2 3; do
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "$@" && return 0
    [ $try = 3 ] || { echo "${APT_LOG_PREFIX:-[apt]} apt-get $1 failed (try $try of 3); again in 10 s" >&2; sleep 10; }
  done
  return 1
}
