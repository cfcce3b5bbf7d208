#!/usr/bin/env bash
# Placeholder: installs/starts redis-server and MariaDB for the tests (filled in by the heartbeat work).
set -euo pipefail
case "${1:-}" in start|stop|status) exit 0 ;; *) echo "usage: services.sh start|stop|status" >&2; exit 2 ;; esac
