#!/usr/bin/env bash
# Issue 25, item 1: what reading a workbook costs, bounded. For each file: `gec import FILE`
# under /usr/bin/time (peak RSS, seconds, the outcome), then the server's peak RSS and a login's
# time while the same file is posted to /api/v1/import. Files: 100,000 rows (imported),
# 1,000,000 rows (refused: a workbook takes at most 100,000 rows), and the attacks of the
# finding on the 5-row file (a value at XFD1048576, a shared-strings bomb, 2 MB of blanks).
# Usage: bash benches/workbooks.sh; with DATABASE_URL=postgres://… set, the server part runs on
# that (empty) PostgreSQL database. Needs python3 and curl. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d)"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
SERVER_DATABASE_URL="${DATABASE_URL:-}"
unset DATABASE_URL
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

python3 benches/rows.py "$WORK/5.csv" 5
python3 benches/rows.py "$WORK/100k.csv" 100000
python3 benches/rows.py "$WORK/1m.csv" 1000000
python3 benches/workbook.py "$WORK/5.csv" "$WORK/far-cell.xlsx" far-cell
python3 benches/workbook.py "$WORK/5.csv" "$WORK/strings-bomb.xlsx" strings-bomb
python3 benches/workbook.py "$WORK/5.csv" "$WORK/whitespace.xlsx" whitespace
python3 benches/workbook.py "$WORK/100k.csv" "$WORK/100k.xlsx"
python3 benches/workbook.py "$WORK/1m.csv" "$WORK/1m.xlsx"

for f in far-cell strings-bomb whitespace 100k 1m; do
  export GEC_DATA_DIR="$WORK/cli-$f"; mkdir -p "$GEC_DATA_DIR"
  echo 'bench-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
  size=$(stat -c %s "$WORK/$f.xlsx")
  /usr/bin/time -f '%M %e' -o "$WORK/time" "$BIN" import "$WORK/$f.xlsx" >"$WORK/out" 2>&1 && outcome=imported || outcome="refused: $(grep -m1 -o 'line [0-9]*.*' "$WORK/out" | cut -c1-110)"
  read -r kb secs < <(tail -1 "$WORK/time")
  echo "gec import $f.xlsx ($((size / 1024)) KB): peak RSS $((kb / 1024)) MB, $secs s, $outcome"
done

export GEC_DATA_DIR="$WORK/server"; mkdir -p "$GEC_DATA_DIR"
[ -n "$SERVER_DATABASE_URL" ] && export DATABASE_URL="$SERVER_DATABASE_URL"
echo 'bench-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
port="$(free_port)"; BASE="http://127.0.0.1:$port"
"$BIN" serve --bind "127.0.0.1:$port" >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
login() { curl -fs -o "$WORK/login" -w '%{time_total}' -X POST "$BASE/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"bench-password-1"}'; }
login >/dev/null
TOKEN="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/login")"
for f in far-cell strings-bomb whitespace 100k 1m; do
  curl -s -o "$WORK/answer" -w '%{http_code}' -X POST "$BASE/api/v1/import" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' \
    --data-binary "@$WORK/$f.xlsx" >"$WORK/status" &
  post=$!
  sleep 0.3
  slowest=0
  while kill -0 "$post" 2>/dev/null; do
    t="$(login)"; slowest="$(python3 -c "print(max($slowest, $t))")"; sleep 0.2
  done
  wait "$post" || true
  hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$SERVER_PID/status")
  echo "POST $f.xlsx: HTTP $(cat "$WORK/status"), server peak RSS so far $hwm MB, slowest login meanwhile ${slowest}s"
done
