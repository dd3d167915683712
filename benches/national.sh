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
#  7. `gec regrade` of the N firms (grade and carbon level).
# On PostgreSQL (second argument, an empty database) the backups are pg_dump's custom format
# and the restores pg_restore's. Usage: bash benches/national.sh N [postgres://…]
# Needs python3 (and pg_dump/pg_restore for PostgreSQL). Loopback only.
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

# 2. The backup from before the codes.
start=$(now); backup_to "$WORK/before.backup"
say "2. backup of the imported database" "$(secs "$start") s"

# 3. Every submission approved.
serve
TOKEN="$(curl -fs -X POST "$BASE/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"national-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
FIRST="$(curl -fs "$BASE/api/v1/assessments?status=submitted&limit=1" -H "Authorization: Bearer $TOKEN" | python3 -c 'import sys,json; print(min(a["id"] for a in json.load(sys.stdin)["items"]))')"
say "3. bulk approval of $N submissions" "$(python3 benches/approve_all.py "$BASE" "$TOKEN" "$FIRST" "$N")"
say "   server peak RSS" "$(server_peak)"
SIZE="$(curl -fs "$BASE/log/checkpoint" | sed -n 2p)"

# 4. The status list.
start=$(now); curl -fs -o "$WORK/status.cose" "$BASE/.well-known/gec/status"
say "4. status list of $SIZE codes, first request (built, signed)" "$(secs "$start") s, $(stat -c %s "$WORK/status.cose") bytes"

# 5. The mirror.
start=$(now); "$BIN" log mirror --server "$BASE" --dir "$WORK/mirror" >/dev/null
say "5. gec log mirror of $SIZE entries" "$(secs "$start") s"
stop

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
serve
say "   healthz after it all" "$(curl -fs "$BASE/healthz" | head -c 200)"
stop
