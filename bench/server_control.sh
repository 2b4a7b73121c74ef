# bench/server_control.sh — sourced by bench/run.sh and bench/ab.sh: one bench server at a time, by its PID.
#   start_server LOG COMMAND... : runs COMMAND (with --port 0) in the background, sets SERVER_PID, and PORT once it
#                                 printed "listening on http(s)://127.0.0.1:<port>/socket.io/" (15 s at most);
#                                 returns 1, with its log on stderr, when it did not.
#   stop_server                 : SIGTERM to SERVER_PID, SIGKILL after 5 s (stop_pid).
SERVER_PID=""
PORT=""

start_server() {
  local log=$1
  shift
  : >"$log"
  "$@" --port 0 >"$log" 2>&1 &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1 150); do
    PORT=$(sed -n 's#^listening on https\{0,1\}://127\.0\.0\.1:\([0-9][0-9]*\)/socket\.io/$#\1#p' "$log" | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PORT" ]; then
    echo "server $* did not start:" >&2
    cat "$log" >&2
    stop_server
    return 1
  fi
}

stop_server() {
  stop_pid "$SERVER_PID"
  SERVER_PID=""
}

# stop_pid PID: SIGTERM, SIGKILL after 5 s, reaped (also bench/cluster_control.sh's, for its three processes).
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
