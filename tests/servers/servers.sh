# servers.sh: starting and stopping the loopback peers of the transport
# tests (sourced after tests/integration/lib.sh). Each server binds port 0
# and writes the port it got to a file; nothing here waits on a fixed
# delay except for polling that file or a transcript line (bounded).
SERVERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3   # Debian's python: python3-aiosmtpd lives there
SERVER_PIDS=()

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  SERVER_PIDS=()
}
trap 'stop_servers; rm -rf "$WORK"' EXIT

# wait_for_file FILE: until it exists and is not empty (20 s at most).
wait_for_file() {
  local i
  for i in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.1; done
  die "timed out waiting for $1"
}

# wait_for_lines FILE PATTERN N: until FILE has N lines matching PATTERN.
wait_for_lines() {
  local i
  for i in $(seq 200); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
    sleep 0.05
  done
  die "timed out waiting for $3 lines /$2/ in $1"
}

# start_smtp NAME [smtp_server.py options...]: sets SMTP_PORT_NOW and
# TRANSCRIPT ($WORK/NAME.jsonl).
start_smtp() {
  local name=$1; shift
  TRANSCRIPT="$WORK/$name.jsonl"; : >"$TRANSCRIPT"
  rm -f "$WORK/$name.port"
  "$PY" "$SERVERS_DIR/smtp_server.py" --port-file "$WORK/$name.port" --transcript "$TRANSCRIPT" "$@" \
    2>>"$WORK/$name.server.err" &
  SERVER_PIDS+=($!)
  wait_for_file "$WORK/$name.port"
  SMTP_PORT_NOW=$(cat "$WORK/$name.port")
}

# start_api NAME [transmissions_api.py options...]: sets API_URL and API_LOG.
start_api() {
  local name=$1; shift
  API_LOG="$WORK/$name.jsonl"; : >"$API_LOG"
  rm -f "$WORK/$name.port"
  "$PY" "$SERVERS_DIR/transmissions_api.py" --port-file "$WORK/$name.port" --log "$API_LOG" "$@" \
    2>>"$WORK/$name.server.err" &
  SERVER_PIDS+=($!)
  wait_for_file "$WORK/$name.port"
  API_URL="http://127.0.0.1:$(cat "$WORK/$name.port")"
}

# A TCP port nobody listens on (bound, then released).
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# jq-like queries on a JSON-lines file with python: jl FILE 'expression over r (record) / rs (list)'
jl() { "$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(eval(sys.argv[2]))' "$1" "$2"; }
