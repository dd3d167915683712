#!/usr/bin/env bash
# The scan page against /healthz (issue 17): the demo's code 1 (`gec serve --demo`), wrk with
# 2 threads; 32 connections without and with gzip, side by side in one run, then a burst of
# 1,000 connections. Usage:
#   bash benches/scan.sh                         # SQLite in a temporary folder
#   bash benches/scan.sh postgres://user@host/db # an empty PostgreSQL database
# Needs wrk and python3. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
DB_URL="${1:-}"
DURATION="${DURATION:-10}"
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d)"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export GEC_DATA_DIR="$WORK"
if [ -n "$DB_URL" ]; then export DATABASE_URL="$DB_URL"; else unset DATABASE_URL; fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
"$BIN" serve --demo --bind "127.0.0.1:$PORT" >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 150); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
CODE="$(curl -fs "$BASE/api/v1/codes/1" | python3 -c 'import sys,json; print(json.load(sys.stdin)["url"])')"
SCAN="$BASE/c/${CODE#*/C/}"
echo "scan page: $(curl -fs "$SCAN" | wc -c) bytes, $(curl -fs -H 'Accept-Encoding: gzip' "$SCAN" | wc -c) gzipped"
rate() { awk '/Requests\/sec/ {r=$2} /99%/ {p=$2} /Socket errors/ {e=", " $0} /Non-2xx/ {e=e ", " $0} END {printf "%s req/s, p99 %s%s", r, p, e}'; }
run() { wrk -t2 -c"$1" -d"${DURATION}s" --latency "${@:2}"; }
printf '%-44s %s\n' "GET /healthz, 32 connections" "$(run 32 "$BASE/healthz" | rate)"
printf '%-44s %s\n' "GET /c/{code}, 32 connections" "$(run 32 "$SCAN" | rate)"
printf '%-44s %s\n' "the same with gzip" "$(run 32 -H 'Accept-Encoding: gzip' "$SCAN" | rate)"
printf '%-44s %s\n' "GET /healthz, 32 connections (again)" "$(run 32 "$BASE/healthz" | rate)"
printf '%-44s %s\n' "GET /c/{code}, 1,000 connections" "$(run 1000 --timeout 5s "$SCAN" | rate)"
printf '%-44s %s\n' "the same with gzip" "$(run 1000 --timeout 5s -H 'Accept-Encoding: gzip' "$SCAN" | rate)"
