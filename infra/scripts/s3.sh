#!/usr/bin/env bash
# An S3-compatible server for tests and developers: versitygw on its posix
# backend, built with `go install` into the cache, on loopback.
#   s3.sh install   build versitygw
#   s3.sh start     start with a fresh root, create the bucket, print exports
#   s3.sh stop      stop it
set -euo pipefail
source "$(dirname "$0")/common.sh"

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.7.0}"
S3_PORT="${S3_PORT:-17070}"
S3_ACCESS_KEY_ID="${S3_ACCESS_KEY_ID:-promstream}"
S3_SECRET_ACCESS_KEY="${S3_SECRET_ACCESS_KEY:-promstream-secret}"
S3_REGION="${S3_REGION:-us-east-1}"
S3_BUCKET="${S3_BUCKET:-promstream-test}"
bin="$PROMSTREAM_CACHE/versitygw-$VERSITYGW_VERSION/versitygw"
run="$PROMSTREAM_RUN/s3"

install() {
  if [ -x "$bin" ]; then return 0; fi
  command -v go >/dev/null || { log "go is missing"; exit 1; }
  log "building versitygw $VERSITYGW_VERSION with go install"
  GOBIN="$(dirname "$bin")" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
}

start() {
  install
  stop_pidfile "$run/s3.pid"
  rm -rf "$run"
  mkdir -p "$run/root"
  ROOT_ACCESS_KEY="$S3_ACCESS_KEY_ID" ROOT_SECRET_KEY="$S3_SECRET_ACCESS_KEY" \
    nohup "$bin" --port "127.0.0.1:$S3_PORT" --region "$S3_REGION" posix "$run/root" \
    >"$run/s3.out" 2>&1 </dev/null &
  echo $! >"$run/s3.pid"
  if ! wait_port 127.0.0.1 "$S3_PORT" 30; then
    log "versitygw did not start; its output:"; tail -n 50 "$run/s3.out" >&2; exit 1
  fi
  # CreateBucket, signed with SigV4 by curl itself.
  curl -sS -f -X PUT -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY" \
    "http://127.0.0.1:$S3_PORT/$S3_BUCKET" >/dev/null
  log "versitygw $VERSITYGW_VERSION listens on 127.0.0.1:$S3_PORT, bucket $S3_BUCKET"
  cat <<ENV
export S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export S3_REGION=$S3_REGION
export S3_BUCKET=$S3_BUCKET
export S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID
export S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_REGION=$S3_REGION
ENV
}

stop() { stop_pidfile "$run/s3.pid"; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
