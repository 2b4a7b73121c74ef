# bench/cluster_control.sh — sourced by bench/run.sh after bench/server_control.sh (start_server, stop_pid): one
# two-node cluster at a time, with its own Redis, every process stopped by its PID.
#   start_cluster LOGPREFIX NODE-COMMAND... : a Redis (start_redis), then NODE-COMMAND --redis-port <its port> twice
#                 (node A, node B; start_server each), then waits until both nodes are subscribed to the request
#                 channel of namespace "/" (the Streams adapter's public channel with --adapter streams; PUBSUB
#                 NUMSUB, 15 s at most). Sets REDIS_PID REDIS_PORT NODE_A_PID
#                 NODE_A_PORT NODE_B_PID NODE_B_PORT; returns 1 (everything it started stopped) when a part failed.
#   stop_cluster  : both nodes, then Redis.
#   start_redis LOG : Debian's redis-server in the foreground, from a config written to a new temp dir (loopback,
#                 a free port, no RDB, no AOF), until it logs "Ready to accept connections" (10 s at most; a port
#                 taken meanwhile is retried with another, 5 times at most). Sets REDIS_PID, REDIS_PORT, REDIS_DIR.
#   stop_redis    : SIGTERM (SIGKILL after 5 s) to REDIS_PID; removes REDIS_DIR.
REDIS_PID=""
REDIS_PORT=""
REDIS_DIR=""
NODE_A_PID=""
NODE_A_PORT=""
NODE_B_PID=""
NODE_B_PORT=""

# A port nothing listens on now (the kernel's pick for port 0); start_redis retries when it was taken since.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

start_redis() {
  local log=$1 attempt
  REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sio-bench-redis.XXXXXX")
  for attempt in 1 2 3 4 5; do
    REDIS_PORT=$(free_port)
    cat >"$REDIS_DIR/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
daemonize no
dir $REDIS_DIR
save ""
appendonly no
logfile ""
databases 1
EOF
    : >"$log"
    "${SERVER_CPU[@]}" redis-server "$REDIS_DIR/redis.conf" >"$log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 100); do
      grep -q 'Ready to accept connections' "$log" && return 0
      kill -0 "$REDIS_PID" 2>/dev/null || break
      sleep 0.1
    done
    stop_pid "$REDIS_PID"
    REDIS_PID=""
    grep -q 'Address already in use' "$log" || break
  done
  echo "redis-server did not start:" >&2
  cat "$log" >&2
  rm -rf "$REDIS_DIR"
  REDIS_DIR=""
  return 1
}

stop_redis() {
  stop_pid "$REDIS_PID"
  REDIS_PID=""
  [ -n "$REDIS_DIR" ] && rm -rf "$REDIS_DIR"
  REDIS_DIR=""
}

start_cluster() {
  local prefix=$1
  shift
  start_redis "$prefix-redis.log" || return 1
  if ! start_server "$prefix-a.log" "${SERVER_CPU[@]}" "$@" --redis-port "$REDIS_PORT"; then stop_cluster; return 1; fi
  NODE_A_PID=$SERVER_PID NODE_A_PORT=$PORT SERVER_PID=""
  if ! start_server "$prefix-b.log" "${SERVER_CPU[@]}" "$@" --redis-port "$REDIS_PORT"; then stop_cluster; return 1; fi
  NODE_B_PID=$SERVER_PID NODE_B_PORT=$PORT SERVER_PID=""
  local subs=0 channel='socket.io-request#/#'
  [[ " $* " == *" --adapter streams "* ]] && channel='socket.io#/#'  # the Streams adapter's public channel
  for _ in $(seq 1 150); do
    subs=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --raw PUBSUB NUMSUB "$channel" 2>/dev/null | sed -n 2p)
    [ "${subs:-0}" -ge 2 ] 2>/dev/null && return 0
    sleep 0.1
  done
  echo "the two nodes did not both subscribe to Redis (PUBSUB NUMSUB $channel: ${subs:-none})" >&2
  stop_cluster
  return 1
}

stop_cluster() {
  stop_pid "$NODE_A_PID"
  stop_pid "$NODE_B_PID"
  NODE_A_PID="" NODE_B_PID=""
  stop_redis
}
