#!/usr/bin/env bash
# An incident list from outside at scale, on SQLite: N firms imported (`gec import`) and their
# codes issued through the API (wrk), then a list of N/10 rows — every tenth firm named as a
# dishonest entity (信用中国) — posted to `POST /api/v1/incidents` as CSV: the dry run, the commit
# (vetoes recorded, each touched firm's code superseded by a regraded one through the group
# commit), and the same list committed again (nothing to do). Prints each step's time and the
# server's peak RSS. Usage: bash benches/incidents.sh [N]. Needs wrk, curl, python3.
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
took() { python3 -c "print(f'{$(date +%s.%N) - $1:.1f} s')"; }
python3 benches/rows.py "$WORK/rows.csv" "$N"
echo 'bench-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
start=$(date +%s.%N)
"$BIN" import "$WORK/rows.csv" >/dev/null 2>&1
printf '%-58s %s\n' "gec import of $N firms" "$(took "$start")"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$BIN" serve --bind "127.0.0.1:$PORT" >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
TOKEN="$(curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"bench-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
SECONDS_FOR_APPROVALS=$(( N / 250 + 30 < 900 ? N / 250 + 30 : 900 ))
start=$(date +%s.%N)
FIRST_ID=1 COUNT="$N" THREADS=2 TOKEN="$TOKEN" timeout 1000 wrk -t2 -c8 -d"${SECONDS_FOR_APPROVALS}s" -s benches/wrk/approve-all.lua "http://127.0.0.1:$PORT" | grep -E "^approved" || true
printf '%-58s %s\n' "codes issued through the API (wrk, ${SECONDS_FOR_APPROVALS} s window)" "$(took "$start")"
# A fresh server for the list, so that its peak RSS is the list's.
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
"$BIN" serve --bind "127.0.0.1:$PORT" >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
TOKEN="$(curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"bench-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
# Every tenth firm of the import, named by an incident list (rows.py numbers firms from 0).
python3 - "$WORK/list.csv" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"; w = [1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
def uscc(i):
    s = "91500000MA" + "%07d" % i
    return s + alpha[(31 - sum(alpha.index(c) * w[k] for k, c in enumerate(s)) % 31) % 31]
with open(path, "w", encoding="utf-8") as f:
    f.write("uscc,kind,occurred_on,authority,document_no\r\n")
    for i in range(0, n, 10):
        f.write(f"{uscc(i)},dishonest_entity,2026-05-20,信用中国（重庆）,（2026）渝失信第{i:07d}号\r\n")
PY
post() {
  curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/incidents$1" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: text/csv' --data-binary "@$WORK/list.csv" -o "$WORK/report.json" --max-time 900
  python3 -c "
import json; r = json.load(open('$WORK/report.json'))
print(f\"  rows {r['rows']}, firms {len(r['firms'])}, new vetoes {r['new_vetoes']}, regraded {r['regraded']}\")"
}
for step in "dry run:" "commit:?commit=true" "commit again:?commit=true"; do
  start=$(date +%s.%N)
  post "${step#*:}" >"$WORK/summary"
  printf '%-58s %s\n' "incident list of $((N / 10)) rows, ${step%%:*}" "$(took "$start")"
  cat "$WORK/summary"
done
printf '%-58s %s\n' "server peak RSS (started after the approvals)" "$(( $(grep VmHWM /proc/$SERVER_PID/status | awk '{print $2}') / 1024 )) MB"
