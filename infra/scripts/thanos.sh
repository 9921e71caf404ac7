#!/usr/bin/env bash
# The Thanos v0.42.5 oracle: testkit/thanos-tool, a small Go program that
# imports Thanos' pkg/compact/downsample and pkg/block (and Prometheus' tsdb
# compactor) to downsample, compact and dump blocks. `go install` of Thanos'
# own command refuses its replace directives, so the tool repeats them in its
# go.mod. Built into the cache, keyed by a hash of its sources.
#   thanos.sh install   build the tool when absent, print its path
#   thanos.sh bin       print its path (fails when not built)
set -euo pipefail
source "$(dirname "$0")/common.sh"

THANOS_VERSION=v0.42.5
src="$(cd "$(dirname "$0")/../../testkit/thanos-tool" && pwd)"
tags=slicelabels
# The build tags are part of the key: a tool built otherwise is another tool.
hash=$( (cat "$src/go.mod" "$src/go.sum" "$src"/*.go; echo "tags=$tags") | sha256sum | cut -c1-12)
dir="$PROMSTREAM_CACHE/thanos-$THANOS_VERSION-tool-$hash"
bin="$dir/promstream-thanos-tool"

install() {
  if [ -x "$bin" ]; then
    echo "$bin"
    return 0
  fi
  command -v go >/dev/null || { log "go is missing"; exit 1; }
  log "building the Thanos $THANOS_VERSION tool from $src into $dir"
  mkdir -p "$dir"
  # Thanos v0.42.5 needs a newer Go than some machines have; the go command fetches it.
  # Thanos is built with slicelabels (its .promu.yml): its store API casts labels in that layout.
  (cd "$src" && GOTOOLCHAIN=go1.27.3 GOFLAGS=-mod=mod go build -tags "$tags" -o "$bin.partial" .)
  mv "$bin.partial" "$bin"
  echo "$bin"
}

case "${1:-}" in
  install) install ;;
  bin) [ -x "$bin" ] && echo "$bin" || { log "not built: run $0 install"; exit 1; } ;;
  *) echo "usage: $0 install|bin" >&2; exit 2 ;;
esac
