#!/usr/bin/env bash
# Starts N release msnd nodes of one cluster on 127.0.0.1 (ephemeral ports,
# the load-test configuration), on one PostgreSQL database and one NATS
# server, and prints shell assignments for each node k = 1..N:
#   NODE<k>_PID=… NODE<k>_NS=127.0.0.1:… NODE<k>_SB=… NODE<k>_HTTP=…
# plus NODE_PIDS="pid1 pid2 …". Seed the database first
# (msnd-load seed --database-url URL …).
# Usage: start-cluster.sh N DATABASE_URL NATS_URL DATA_DIR [cluster name]
# Each node logs to DATA_DIR/n<k>/server.log. Stop them with:
#   kill $NODE_PIDS
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
n="$1"; db="$2"; nats="$3"; data="$4"; name="${5:-bench}"
pids=""
for k in $(seq 1 "$n"); do
    out="$(MSND_DATABASE__URL="$db" MSND_CLUSTER__NATS_URL="$nats" \
        MSND_CLUSTER__NAME="$name" MSND_CLUSTER__NODE_ID="n$k" \
        "$here/start-server.sh" "$data/n$k")"
    eval "$out"
    echo "NODE${k}_PID=$SERVER_PID NODE${k}_NS=$NS NODE${k}_SB=$SB NODE${k}_HTTP=$HTTP"
    pids="$pids $SERVER_PID"
done
echo "NODE_PIDS=\"${pids# }\""
