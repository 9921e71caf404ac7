# Shared settings for the scripts that run real reference components.
# Everything they download or build is cached outside the repository.
PROMSTREAM_CACHE="${PROMSTREAM_CACHE:-$HOME/.cache/promstream}"
PROMSTREAM_RUN="${PROMSTREAM_RUN:-${TMPDIR:-/tmp}/promstream-run}"
mkdir -p "$PROMSTREAM_CACHE" "$PROMSTREAM_RUN"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }

# wait_port HOST PORT SECONDS: waits until a TCP connect succeeds.
wait_port() {
  local host=$1 port=$2 secs=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# stop_pidfile FILE: stops the process in FILE (TERM, then KILL after 15 s).
stop_pidfile() {
  local file=$1 pid i
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}
