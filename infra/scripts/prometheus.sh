#!/usr/bin/env bash
# Prometheus 3.16, the reference for PromQL semantics and for reading our
# blocks (promtool), built with `go install` into the cache. Debian's
# Prometheus 2.42 stays installed as an older remote-write client only.
#   prometheus.sh install   build prometheus and promtool when absent, print the bin directory
#   prometheus.sh bin       print the bin directory (fails when not built)
set -euo pipefail
source "$(dirname "$0")/common.sh"

PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-3.16.0}"
# Prometheus publishes its Go module as v0.<major><minor>.<patch>: 3.16.0 is v0.316.0.
module_version="v0.$(echo "$PROMETHEUS_VERSION" | awk -F. '{ printf "%d%02d.%d", $1, $2, $3 }')"
bin="$PROMSTREAM_CACHE/prometheus-$PROMETHEUS_VERSION/bin"

install() {
  if [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ]; then
    echo "$bin"
    return 0
  fi
  command -v go >/dev/null || { log "go is missing"; exit 1; }
  log "building prometheus and promtool $PROMETHEUS_VERSION ($module_version) with go install into $bin"
  mkdir -p "$bin"
  # The version is stamped in as Prometheus' own release builds do, so
  # `prometheus --version` and /api/v1/status/buildinfo name it.
  local ldflags="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=$module_version"
  GOBIN="$bin.partial" GOFLAGS=-mod=mod go install -ldflags "$ldflags" \
    "github.com/prometheus/prometheus/cmd/prometheus@$module_version" \
    "github.com/prometheus/prometheus/cmd/promtool@$module_version"
  mv "$bin.partial/prometheus" "$bin.partial/promtool" "$bin/"
  rmdir "$bin.partial"
  "$bin/prometheus" --version 2>&1 | head -n 1 >&2
  echo "$bin"
}

case "${1:-}" in
  install) install ;;
  bin) [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ] && echo "$bin" || { log "not built: run $0 install"; exit 1; } ;;
  *) echo "usage: $0 install|bin" >&2; exit 2 ;;
esac
