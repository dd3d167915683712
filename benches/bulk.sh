#!/usr/bin/env bash
# The two batch jobs of a city, on SQLite: `gec import` of N rows, and `gec regrade` of N firms
# that each hold an active code (issued through the API first). Usage: bash benches/bulk.sh [N]
# Targets: each ≤ 60 s for N = 100,000. Needs wrk. Loopback only; every step is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d)"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export GEC_DATA_DIR="$WORK"
unset DATABASE_URL
python3 benches/rows.py "$WORK/rows.csv" "$N"
echo 'bulk-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
start=$(date +%s.%N)
"$BIN" import "$WORK/rows.csv" >/dev/null 2>&1
printf '%-58s %s\n' "gec import of $N rows (SQLite)" "$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f} s')")   (target ≤ 60 s)"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$BIN" serve --bind "127.0.0.1:$PORT" >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
TOKEN="$(curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"bulk-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
SECONDS_FOR_APPROVALS=$(( N / 400 + 20 < 600 ? N / 400 + 20 : 600 ))
echo "approving all $N submissions through the API (at most $SECONDS_FOR_APPROVALS s)…"
FIRST_ID=1 COUNT="$N" THREADS=2 TOKEN="$TOKEN" timeout 700 wrk -t2 -c8 -d"${SECONDS_FOR_APPROVALS}s" -s benches/wrk/approve-all.lua "http://127.0.0.1:$PORT" | grep -E "^approved" || true
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
start=$(date +%s.%N)
"$BIN" regrade >"$WORK/regrade.json" 2>/dev/null
printf '%-58s %s\n' "gec regrade of $N firms (SQLite)" "$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f} s')")   (target ≤ 60 s)"
python3 -c "import json; r = json.load(open('$WORK/regrade.json')); print('firms regraded:', r['firms'], ' grades that would change:', len(r['changed']))"

# `gec regrade --carbon` of every assessment, as on a database migrated from before methodology
# §10 (the carbon columns emptied first, through Python's sqlite3).
DB_FILE="$(ls "$WORK"/*.db 2>/dev/null | head -1)"
python3 - "$DB_FILE" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE assessments SET carbon_trace = NULL, carbon_hash = NULL, carbon_level = NULL").rowcount
db.commit()
print(f"carbon columns emptied on {n} assessments")
PY
start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$WORK/carbon.rss" "$BIN" regrade --carbon >"$WORK/carbon.json" 2>/dev/null
printf '%-58s %s\n' "gec regrade --carbon of every assessment (SQLite)" "$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f} s')")   ($(( $(cat "$WORK/carbon.rss") / 1024 )) MB peak RSS)"
python3 -c "import json; r = json.load(open('$WORK/carbon.json')); print('assessments:', r['assessments'], ' computed:', r['computed'], ' skipped:', r['skipped'])"
