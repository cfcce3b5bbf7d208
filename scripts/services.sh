#!/usr/bin/env bash
# Real services for the test suites: a redis-server and a MariaDB server owned by the test run.
#
#   scripts/services.sh start    install if missing, start (or reuse) both, wait until they answer
#   scripts/services.sh stop     drop this caller's reference; stop the pids we started when none is left
#   scripts/services.sh status   print what runs
#
# Facts (also written to $CHECKUPS_SERVICES_DIR/env, fixed so tests may use constants):
#   redis    127.0.0.1:16379
#   mariadb  127.0.0.1:13306 (socket $DIR/mariadb/mysqld.sock), user checkups/checkups, db checkups_test
#
# Invariants
# - Everything lives under $DIR (default <repo>/tmp/services, gitignored): datadirs, pidfiles,
#   logs, the env file. We only ever signal pids read from our own pidfiles, after checking
#   that the pid still runs the expected program.
# - Several test runs may share the services (parallel sessions on one tree): `start` records a
#   reference named after the calling process (its parent pid, i.e. the vitest process), `stop`
#   removes it and also prunes references whose process is gone; the services stop only when
#   no live reference remains. A flock on $DIR/lock serialises start/stop.
# - CHECKUPS_KEEP_SERVICES=1 makes `stop` leave the services running (fast local reruns).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${CHECKUPS_SERVICES_DIR:-$ROOT/tmp/services}"
REDIS_PORT=16379
MYSQL_PORT=13306
MYSQL_DB=checkups_test
MYSQL_USER=checkups
MYSQL_PASS=checkups
RDIR="$DIR/redis"
MDIR="$DIR/mariadb"
MSOCK="$MDIR/mysqld.sock"
CALLER="${CHECKUPS_SERVICES_REF:-$PPID}"

log() { echo "[services] $*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

find_bin() { # first of the given program names found on PATH or in sbin dirs
  local n
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    [ -x "/usr/sbin/$n" ] && { echo "/usr/sbin/$n"; return 0; }
  done
  return 1
}

APT_LOG_PREFIX="[services]"
# shellcheck source=lib/apt-retry.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-retry.sh"

install_missing() {
  local need=()
  { find_bin redis-server >/dev/null && find_bin redis-cli >/dev/null; } || need+=(redis-server redis-tools)
  { find_bin mariadbd mysqld >/dev/null && find_bin mariadb-install-db mysql_install_db >/dev/null \
    && find_bin mariadb-admin mysqladmin >/dev/null && find_bin mariadb mysql >/dev/null; } \
    || need+=(mariadb-server mariadb-client)
  # the TLS suites make their certificates with openssl
  find_bin openssl >/dev/null || need+=(openssl)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]} (apt-get)"
  # Keep the packages' own system services from starting: ours run from $DIR.
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy"; added=1
  fi
  apt_retry update -qq || die "apt-get update failed 3 times"
  apt_retry install -y -qq --no-install-recommends "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed 3 times"
  [ $added = 1 ] && as_root rm -f "$policy"
  return 0
}

alive() { # alive PIDFILE PATTERN → true when the pid runs a program matching PATTERN
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2 i; shift 2
  for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not answer within ${secs}s"
}

redis_ping() { [ "$("$(find_bin redis-cli)" -h 127.0.0.1 -p $REDIS_PORT ping 2>/dev/null)" = PONG ]; }

start_redis() {
  mkdir -p "$RDIR"
  if alive "$RDIR/redis.pid" redis-server; then log "redis reused (pid $(cat "$RDIR/redis.pid"))"; return; fi
  port_busy $REDIS_PORT && die "port $REDIS_PORT is in use by a process we did not start"
  "$(find_bin redis-server)" --bind 127.0.0.1 --port $REDIS_PORT --daemonize yes \
    --pidfile "$RDIR/redis.pid" --dir "$RDIR" --logfile "$RDIR/redis.log" \
    --save '' --appendonly no --protected-mode no 9>&-
  wait_for 10 redis redis_ping
  log "redis started (pid $(cat "$RDIR/redis.pid"))"
}

mysql_root() { "$(find_bin mariadb mysql)" --no-defaults --protocol=socket -S "$MSOCK" -uroot "$@"; }
mysql_ping() { "$(find_bin mariadb-admin mysqladmin)" --no-defaults -S "$MSOCK" -uroot ping; }

start_mariadb() {
  mkdir -p "$MDIR"
  if alive "$MDIR/mysqld.pid" 'mariadbd\|mysqld'; then log "mariadb reused (pid $(cat "$MDIR/mysqld.pid"))"; return; fi
  port_busy $MYSQL_PORT && die "port $MYSQL_PORT is in use by a process we did not start"
  local me; me="$(id -un)"
  if [ ! -d "$MDIR/data/mysql" ]; then
    rm -rf "$MDIR/data"
    "$(find_bin mariadb-install-db mysql_install_db)" --no-defaults --basedir=/usr --datadir="$MDIR/data" \
      --user="$me" --auth-root-authentication-method=socket --auth-root-socket-user="$me" \
      --skip-test-db >"$MDIR/install.log" 2>&1 || { cat "$MDIR/install.log" >&2; die "mariadb-install-db failed"; }
  fi
  rm -f "$MSOCK" "$MDIR/mysqld.pid"
  nohup "$(find_bin mariadbd mysqld)" --no-defaults --user="$me" --datadir="$MDIR/data" \
    --bind-address=127.0.0.1 --port=$MYSQL_PORT --socket="$MSOCK" --pid-file="$MDIR/mysqld.pid" \
    --log-error="$MDIR/error.log" --skip-log-bin --skip-name-resolve \
    --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --max-connections=500 \
    --performance-schema=OFF </dev/null >/dev/null 2>&1 9>&- &
  wait_for 60 mariadb mysql_ping || { tail -20 "$MDIR/error.log" >&2; exit 1; }
  mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS \`$MYSQL_DB\`;
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASS';
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'localhost' IDENTIFIED BY '$MYSQL_PASS';
GRANT ALL ON \`$MYSQL_DB\`.* TO '$MYSQL_USER'@'127.0.0.1';
GRANT ALL ON \`$MYSQL_DB\`.* TO '$MYSQL_USER'@'localhost';
SQL
  log "mariadb started (pid $(cat "$MDIR/mysqld.pid"))"
}

write_env() {
  cat >"$DIR/env" <<ENV
CHECKUPS_REDIS_HOST=127.0.0.1
CHECKUPS_REDIS_PORT=$REDIS_PORT
CHECKUPS_MYSQL_HOST=127.0.0.1
CHECKUPS_MYSQL_PORT=$MYSQL_PORT
CHECKUPS_MYSQL_SOCKET=$MSOCK
CHECKUPS_MYSQL_USER=$MYSQL_USER
CHECKUPS_MYSQL_PASSWORD=$MYSQL_PASS
CHECKUPS_MYSQL_DATABASE=$MYSQL_DB
ENV
}

prune_refs() {
  local f
  for f in "$DIR/refs"/*; do
    [ -e "$f" ] || continue
    kill -0 "$(basename "$f")" 2>/dev/null || rm -f "$f"
  done
}

stop_pidfile() { # stop_pidfile PIDFILE PATTERN NAME
  alive "$1" "$2" || { rm -f "$1"; return 0; }
  local pid i; pid="$(cat "$1")"
  kill -TERM "$pid"
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$1"
  log "$3 stopped (pid $pid)"
}

status() {
  if alive "$RDIR/redis.pid" redis-server; then echo "redis    127.0.0.1:$REDIS_PORT pid $(cat "$RDIR/redis.pid")"; else echo "redis    stopped"; fi
  if alive "$MDIR/mysqld.pid" 'mariadbd\|mysqld'; then echo "mariadb  127.0.0.1:$MYSQL_PORT pid $(cat "$MDIR/mysqld.pid")"; else echo "mariadb  stopped"; fi
  prune_refs
  echo "refs     $(ls "$DIR/refs" 2>/dev/null | tr '\n' ' ')"
}

mkdir -p "$DIR/refs"
exec 9>"$DIR/lock"
flock 9
case "${1:-}" in
  start)
    install_missing
    start_redis
    start_mariadb
    write_env
    prune_refs
    touch "$DIR/refs/$CALLER"
    echo "[services] redis 127.0.0.1:$REDIS_PORT, mariadb 127.0.0.1:$MYSQL_PORT (env: $DIR/env)" >&2
    ;;
  stop)
    rm -f "$DIR/refs/$CALLER"
    prune_refs
    if [ -n "$(ls -A "$DIR/refs")" ]; then log "still in use by $(ls "$DIR/refs" | tr '\n' ' '); left running"; exit 0; fi
    if [ "${CHECKUPS_KEEP_SERVICES:-}" = 1 ]; then log "CHECKUPS_KEEP_SERVICES=1: left running"; exit 0; fi
    stop_pidfile "$RDIR/redis.pid" redis-server redis
    stop_pidfile "$MDIR/mysqld.pid" 'mariadbd\|mysqld' mariadb
    ;;
  status) status ;;
  *) echo "usage: services.sh start|stop|status" >&2; exit 2 ;;
esac
