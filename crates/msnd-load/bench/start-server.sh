#!/usr/bin/env bash
# Starts a release msnd on 127.0.0.1 with ephemeral ports and the load-test
# configuration, waits until it listens, and prints shell assignments:
#   SERVER_PID=… NS=127.0.0.1:… SB=127.0.0.1:… HTTP=127.0.0.1:…
# Usage: start-server.sh DATA_DIR [extra msnd serve flags…]
# The log goes to DATA_DIR/server.log. Stop it with: kill $SERVER_PID
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${CARGO_TARGET_DIR:-$here/../../../target}"
msnd="${MSND:-$target/release/msnd}"
data="$1"; shift
log="$data/server.log"
mkdir -p "$data"
: > "$log"
"$msnd" serve --config "$here/bench.toml" --data-dir "$data" \
    --bind 127.0.0.1 --ns-port 0 --sb-port 0 --http-port 0 "$@" >>"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    if grep -q "msn_server::server.* listening" "$log"; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; exit 1; fi
    sleep 0.1
done
# The HTTP (Passport) listener logs its own line, shortly after.
for _ in $(seq 1 20); do
    if grep -q "http services listening" "$log"; then break; fi
    sleep 0.1
done
line="$(grep -m1 "msn_server::server.* listening" "$log" | sed 's/\x1b\[[0-9;]*m//g')"
ns="$(sed -n 's/.* ns=\([0-9.:]*\).*/\1/p' <<<"$line")"
sb="$(sed -n 's/.* sb=\([0-9.:]*\).*/\1/p' <<<"$line")"
http="$(grep -m1 "http services listening" "$log" | sed 's/\x1b\[[0-9;]*m//g' \
    | sed -n 's/.* http=Some(\([0-9.:]*\)).*/\1/p' || true)"
echo "SERVER_PID=$pid NS=$ns SB=$sb HTTP=$http"
