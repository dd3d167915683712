#!/usr/bin/env bash
# National scale (issue 31): N firms through the service's own paths, each step timed.
#  1. `gec import` of N firms with a year's figures (CSV files of 100,000 rows, the most one
#     file takes): time, peak RSS of the largest file's run;
#  2. `gec backup` of the imported database (before any code: the backup put back in step 6);
#  3. every submission approved through `POST /api/v1/approvals` (10,000 ids a request, through
#     the group commit): codes per second; the server's peak RSS;
#  4. the status list of N codes: first request (built and signed), its size;
#  5. `gec log mirror` of the N entries to a folder;
#  6. `gec backup` of the whole database (time, size per firm), the first backup put back (the
#     restore: time), and `gec log recover` of the N missing entries from the mirror's folder;
#  7. `gec regrade` of the N firms (grade and carbon level);
#  8. the public path with N codes beside a database of 1,000 (one after the other, each figure
#     side by side in one run, wrk 2 threads): the scan page, verify and the QR image of one
#     code (serial 500 in both, so that the codes are as long), a full hash tile, and 1,000
#     codes in rotation on one connection (read from the database); then nginx serving the
#     same scan page and tile bytes from files; then the mixed load (64 clients: verify, scan
#     pages, previews, approvals of 20,000 new submissions) and the server's peak RSS.
# On PostgreSQL (second argument, an empty database) the backups are pg_dump's custom format
# and the restores pg_restore's. Usage: bash benches/national.sh N [postgres://…]
# Needs python3 and wrk, nginx for step 8 (and pg_dump/pg_restore/psql for PostgreSQL).
# DURATION (default 10) is each wrk run's seconds; PUBLIC=0 stops after step 7; BATCH=0 leaves
# out steps 2 and 4–7 (the public path alone, on N codes). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
PG="${2:-}"
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d -p "${TMPDIR:-/tmp}" national.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
export GEC_DATA_DIR="$WORK/data"
if [ -n "$PG" ]; then export DATABASE_URL="$PG"; else unset DATABASE_URL; fi
DB_LABEL=$([ -n "$PG" ] && echo PostgreSQL || echo SQLite)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$(now) - $1:.1f}')"; }
say() { printf '%-62s %s\n' "$1" "$2"; }
serve() {
  PORT="$(free_port)"
  "$BIN" serve --bind "127.0.0.1:$PORT" >/dev/null 2>>"$WORK/server.err" &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  BASE="http://127.0.0.1:$PORT"
}
server_peak() { awk '/VmHWM/ {printf "%d MB", $2 / 1024}' "/proc/$SERVER_PID/status"; }
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }
backup_to() {
  if [ -n "$PG" ]; then pg_dump --format=custom --compress=1 --file "$1" "$PG"
  else "$BIN" backup "$1" 2>/dev/null; fi
}
restore_from() {
  if [ -n "$PG" ]; then pg_restore --clean --if-exists --single-transaction --dbname "$PG" "$1"
  else rm -f "$GEC_DATA_DIR"/gec.db-wal "$GEC_DATA_DIR"/gec.db-shm; cp "$1" "$GEC_DATA_DIR/gec.db"; fi
}
db_size() {
  if [ -n "$PG" ]; then psql -Atc 'SELECT pg_database_size(current_database())' "$PG"
  else stat -c %s "$GEC_DATA_DIR/gec.db"; fi
}
mb() { python3 -c "print(f'{$1 / 1e6:.0f} MB ({$1 / $N / 1e3:.1f} KB a firm)')"; }

echo "== $N firms, $DB_LABEL, $(date -u +%F)"
mkdir -p "$GEC_DATA_DIR" "$WORK/parts"
python3 benches/rows.py "$WORK/rows.csv" "$N" plausible
python3 - "$WORK/rows.csv" "$WORK/parts" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines(True)
for k in range(0, len(lines) - 1, 100_000):
    open(f"{sys.argv[2]}/{k // 100_000:04d}.csv", "w", encoding="utf-8").writelines([lines[0]] + lines[1 + k:1 + k + 100_000])
PY
rm "$WORK/rows.csv"
echo 'national-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null

# 1. Import.
start=$(now); peak=0
for part in "$WORK"/parts/*.csv; do
  /usr/bin/time -f '%M' -o "$WORK/rss" "$BIN" import "$part" >/dev/null 2>"$WORK/import.err" || { cat "$WORK/import.err"; exit 1; }
  rss=$(tail -1 "$WORK/rss"); [ "$rss" -gt "$peak" ] && peak=$rss
done
say "1. gec import of $N firms ($(ls "$WORK"/parts | wc -l) files)" "$(secs "$start") s, peak RSS $(( peak / 1024 )) MB"

BATCH="${BATCH:-1}"
# 2. The backup from before the codes.
if [ "$BATCH" = 1 ]; then
  start=$(now); backup_to "$WORK/before.backup"
  say "2. backup of the imported database" "$(secs "$start") s"
fi

# 3. Every submission approved.
serve
TOKEN="$(curl -fs -X POST "$BASE/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"national-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
FIRST="$(curl -fs "$BASE/api/v1/assessments?status=submitted&limit=1" -H "Authorization: Bearer $TOKEN" | python3 -c 'import sys,json; print(min(a["id"] for a in json.load(sys.stdin)["items"]))')"
say "3. bulk approval of $N submissions" "$(python3 benches/approve_all.py "$BASE" "$TOKEN" "$FIRST" "$N")"
say "   server peak RSS" "$(server_peak)"
SIZE="$(curl -fs "$BASE/log/checkpoint" | sed -n 2p)"

if [ "$BATCH" = 1 ]; then
# 4. The status list.
start=$(now); curl -fs -o "$WORK/status.cose" "$BASE/.well-known/gec/status"
say "4. status list of $SIZE codes, first request (built, signed)" "$(secs "$start") s, $(stat -c %s "$WORK/status.cose") bytes"

# 5. The mirror.
start=$(now); "$BIN" log mirror --server "$BASE" --dir "$WORK/mirror" >/dev/null
say "5. gec log mirror of $SIZE entries" "$(secs "$start") s"
fi
stop
if [ "$BATCH" = 1 ]; then

# 6. Backup, restore, recover.
say "6. database with $SIZE codes" "$(mb "$(db_size)")"
start=$(now); backup_to "$WORK/after.backup"
say "   backup of it" "$(secs "$start") s, $(mb "$(stat -c %s "$WORK/after.backup")")"
start=$(now); restore_from "$WORK/after.backup"
say "   restore of that backup" "$(secs "$start") s"
start=$(now); restore_from "$WORK/before.backup"
say "   restore of the backup from before the codes" "$(secs "$start") s"
start=$(now)
/usr/bin/time -f '%M' -o "$WORK/rss" "$BIN" log recover --from "$WORK/mirror" >"$WORK/recovered.json" 2>"$WORK/recover.err" || { cat "$WORK/recover.err"; exit 1; }
say "   gec log recover of $SIZE missing entries from the mirror" "$(secs "$start") s, peak RSS $(( $(tail -1 "$WORK/rss") / 1024 )) MB, $(python3 -c "import json; r = json.load(open('$WORK/recovered.json')); print(len(r['codes']), 'codes restored,', len(r['notes']), 'notes')")"

# 7. Regrade.
start=$(now)
/usr/bin/time -f '%M' -o "$WORK/rss" "$BIN" regrade >"$WORK/regrade.json" 2>/dev/null
say "7. gec regrade of the firms with codes" "$(secs "$start") s, peak RSS $(( $(tail -1 "$WORK/rss") / 1024 )) MB, $(python3 -c "import json; r = json.load(open('$WORK/regrade.json')); print(r['firms'], 'firms,', len(r['changed']), 'would change')")"
fi

# 8. The public path (PUBLIC=0 leaves it out).
if [ "${PUBLIC:-1}" = 0 ]; then exit 0; fi
DURATION="${DURATION:-10}"
rate() { awk '/Requests\/sec/ {r=$2} /50%/ {m=$2} /99%/ {p=$2} /^not_ok/ {n=$2} END {printf "%s req/s, p50 %s, p99 %s%s", r, m, p, (n > 0 ? ", " n " not 200" : "")}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.2f", x[1] / y[1]}'; }
LARGE_DIR="$GEC_DATA_DIR"; LARGE_URL="${DATABASE_URL:-}"
export GEC_DATA_DIR="$WORK/small"; mkdir -p "$GEC_DATA_DIR"
if [ -n "$PG" ]; then
  psql -qc 'DROP DATABASE IF EXISTS gec_national_small' "$PG"; psql -qc 'CREATE DATABASE gec_national_small' "$PG"
  export DATABASE_URL="${PG%/*}/gec_national_small"
fi
head -1001 "$WORK/parts/0000.csv" >"$WORK/small.csv"
echo 'national-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
"$BIN" import "$WORK/small.csv" >/dev/null 2>&1
serve; SMALL_BASE="$BASE"; SMALL_PID="$SERVER_PID"
SMALL_TOKEN="$(curl -fs -X POST "$BASE/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"national-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
python3 benches/approve_all.py "$BASE" "$SMALL_TOKEN" "$(curl -fs "$BASE/api/v1/assessments?status=submitted&limit=1" -H "Authorization: Bearer $SMALL_TOKEN" | python3 -c 'import sys,json; print(json.load(sys.stdin)["items"][0]["id"])')" 1000 >/dev/null
export GEC_DATA_DIR="$LARGE_DIR"
if [ -n "$LARGE_URL" ]; then export DATABASE_URL="$LARGE_URL"; fi
# 20,000 new firms' submissions for the mixed load's approvals.
python3 - "$WORK/parts/0000.csv" "$WORK/mixed.csv" "$N" <<'PY'
import sys
alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"; w = [1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
def uscc(n):
    s = "91500000MA" + "%07d" % n
    return s + alpha[(31 - sum(alpha.index(c) * w[i] for i, c in enumerate(s)) % 31) % 31]
lines = open(sys.argv[1], encoding="utf-8").read().splitlines(True)[:20_001]
n = int(sys.argv[3])
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write(lines[0])
    for k, line in enumerate(lines[1:]):
        cells = line.split(",")
        cells[0] = uscc(n + k); cells[1] = "企业%d" % (n + k)
        out.write(",".join(cells))
PY
"$BIN" import "$WORK/mixed.csv" >/dev/null 2>&1
serve; LARGE_BASE="$BASE"; LARGE_PID="$SERVER_PID"
TOKEN="$(curl -fs -X POST "$BASE/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"national-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
for label in small large; do
  base=$([ $label = small ] && echo "$SMALL_BASE" || echo "$LARGE_BASE")
  codes=$([ $label = small ] && echo 1000 || echo "$SIZE")
  python3 - "$base" "$codes" "$WORK/$label" <<'PY'
import http.client, json, sys, urllib.parse
base, codes, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection(urllib.parse.urlparse(base).netloc)
def url(serial):
    conn.request("GET", "/api/v1/codes/%d" % serial)
    r = conn.getresponse(); body = r.read()
    assert r.status == 200, (serial, r.status, body[:200])
    return json.loads(body)["url"]
one = url(500)
rotation = [(k * codes // 1000, url(k * codes // 1000)) for k in range(1000)]
open(out + ".scan1", "w").write("/c/%s\n" % one.split("/C/", 1)[1])
open(out + ".verify1", "w").write(one + "\n")
open(out + ".qr1", "w").write("/api/v1/codes/500/qr.png\n")
open(out + ".tile", "w").write("/log/tile/0/000\n")
open(out + ".scan", "w").writelines("/c/%s\n" % u.split("/C/", 1)[1] for _, u in rotation)
open(out + ".verify", "w").writelines(u + "\n" for _, u in rotation)
PY
done
figure() { # LABEL KIND MODE CONNECTIONS: one wrk run against the small and the large server
  local s l
  s="$(LINES="$WORK/small.$2" MODE=$3 wrk -t"$(( $4 < 2 ? 1 : 2 ))" -c"$4" -d"${DURATION}s" --latency -s benches/wrk/many.lua "$SMALL_BASE" | rate)"
  l="$(LINES="$WORK/large.$2" MODE=$3 wrk -t"$(( $4 < 2 ? 1 : 2 ))" -c"$4" -d"${DURATION}s" --latency -s benches/wrk/many.lua "$LARGE_BASE" | rate)"
  say "8. $1, 1,000 codes" "$s"
  say "   $1, $SIZE codes" "$l   → $(ratio "$l" "$s")"
}
# On PostgreSQL, the batches' dirty pages written out first: the figures are then the public
# path's, not those of a checkpoint running beside it.
if [ -n "$PG" ]; then psql -qc 'CHECKPOINT' "$PG"; fi
say "8. GET /healthz, 1,000 codes" "$(wrk -t2 -c32 -d"${DURATION}s" --latency "$SMALL_BASE/healthz" | rate)"
say "   GET /healthz, $SIZE codes" "$(wrk -t2 -c32 -d"${DURATION}s" --latency "$LARGE_BASE/healthz" | rate)"
figure "scan page, one code, 32 connections" scan1 get 32
figure "verify, one code, 32 connections" verify1 verify 32
figure "QR PNG, one code, 32 connections" qr1 get 32
figure "full hash tile 0/000, 32 connections" tile get 32
# The rotations twice: the first run reads the 1,000 codes' rows from wherever they are (on a
# database larger than its cache, the disk), the second as they are kept by the database.
figure "scan page, 1,000 codes in rotation, 1 connection, first run" scan get 1
figure "verify, 1,000 codes in rotation, 1 connection, first run" verify verify 1
figure "scan page, 1,000 codes in rotation, 1 connection, second run" scan get 1
figure "verify, 1,000 codes in rotation, 1 connection, second run" verify verify 1
kill "$SMALL_PID"; wait "$SMALL_PID" 2>/dev/null || true
# nginx serving the large server's scan page and tile bytes from files.
if command -v nginx >/dev/null; then
  mkdir -p "$WORK/nginx/root/log/tile/0" "$WORK/nginx/logs"
  # (a code is longer than a file name may be: the page is one file, served for /c/…)
  curl -fs -o "$WORK/nginx/root/scan.html" "$LARGE_BASE$(cat "$WORK/large.scan1")"
  curl -fs -o "$WORK/nginx/root/log/tile/0/000" "$LARGE_BASE/log/tile/0/000"
  NPORT="$(free_port)"
  cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
user $(id -un);
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/html;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx/logs; proxy_temp_path $WORK/nginx/logs;
  fastcgi_temp_path $WORK/nginx/logs; uwsgi_temp_path $WORK/nginx/logs; scgi_temp_path $WORK/nginx/logs;
  server { listen 127.0.0.1:$NPORT; root $WORK/nginx/root; location /c/ { try_files /scan.html =404; } }
}
CONF
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
  for kind in scan1 tile; do
    g="$(LINES="$WORK/large.$kind" MODE=get wrk -t2 -c32 -d"${DURATION}s" --latency -s benches/wrk/many.lua "$LARGE_BASE" | rate)"
    n="$(LINES="$WORK/large.$kind" MODE=get wrk -t2 -c32 -d"${DURATION}s" --latency -s benches/wrk/many.lua "http://127.0.0.1:$NPORT" | rate)"
    say "8. $kind, gec with $SIZE codes" "$g"
    say "   $kind, nginx from files" "$n   → gec/nginx $(ratio "$g" "$n")"
  done
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -s stop
fi
# The mixed load on the large server.
CODE="$(cat "$WORK/large.verify1")"
PREVIEW_USCC="$(sed -n 2p "$WORK/parts/0000.csv" | cut -d, -f1)"
PREVIEW="$(python3 -c "import json; print(json.dumps({'uscc':'$PREVIEW_USCC','period':2025,'value_added_10k_cny':'1000','energy':[{'carrier':'electricity_kwh','quantity':'100000'}],'waste':{'generated_t':'0','stock_utilized_t':'0','utilized_t':'0'}}))")"
MIXED_FIRST=$(( FIRST + N ))   # the new firms' submissions follow the N imported first
MIXED_COUNT=$(( $(wc -l <"$WORK/mixed.csv") - 1 ))
mixed="$(FIRST_ID=$MIXED_FIRST COUNT=$MIXED_COUNT THREADS=2 TOKEN=$TOKEN CODE=$CODE PREVIEW=$PREVIEW wrk -t2 -c64 -d"${MIXED_DURATION:-60}s" --latency -s benches/wrk/mixed.lua "$LARGE_BASE")"
say "8. mixed load, 64 clients, ${MIXED_DURATION:-60} s, $SIZE codes" "$(echo "$mixed" | rate)"
say "   answers by status" "$(echo "$mixed" | awk '/^statuses/ {$1=""; print}')"
say "   server peak RSS (all of step 8)" "$(server_peak)"
say "   healthz after it all" "$(curl -fs "$LARGE_BASE/healthz" | head -c 200)"
stop
