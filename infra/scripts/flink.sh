#!/usr/bin/env bash
# Apache Flink for the recipe test (docs/flink.md): builds the Java project in
# tests/flink (Flink 2.2 from Maven Central: the Table API on a local
# MiniCluster, the Kafka connector, the avro-confluent format) into the cache.
#   flink.sh install   build the job and copy its jars into $PROMSTREAM_CACHE/flink-events
#                      (prints that directory on its last line)
# The build is redone when any file of tests/flink changes: the directory's
# .complete holds the digest of those files (testkit's flinkJob computes the same).
set -euo pipefail
source "$(dirname "$0")/common.sh"

project="$(cd "$(dirname "$0")/../../tests/flink" && pwd)"
home="$PROMSTREAM_CACHE/flink-events"

# The digest of the project's files: each path (relative, byte-sorted), a newline, then its bytes.
digest() {
  (cd "$project" && find . -type f -not -path './target/*' | LC_ALL=C sort | while read -r f; do
    printf '%s\n' "${f#./}"
    cat "$f"
  done) | sha256sum | cut -d' ' -f1
}

install() {
  local sum
  sum=$(digest)
  if [ -f "$home/.complete" ] && [ "$(cat "$home/.complete")" = "$sum" ]; then
    echo "$home"
    return 0
  fi
  command -v java >/dev/null || { log "java is missing"; exit 1; }
  command -v mvn >/dev/null || { log "mvn is missing"; exit 1; }
  log "building $project with Flink from Maven Central into $home"
  rm -rf "$home.new"
  mkdir -p "$home.new"
  # A Maven repository of its own: .ci/run fetches Kafka's jars at the same time, and two
  # Maven processes writing one local repository may corrupt each other's downloads.
  mvn -q -B -f "$project/pom.xml" -Dmaven.repo.local="$PROMSTREAM_CACHE/maven-flink" \
    -Dflink.build.dir="$home.new/build" package \
    dependency:copy-dependencies -DoutputDirectory="$home.new/libs" -DincludeScope=runtime
  cp "$home.new/build/flink-events-1.jar" "$home.new/libs/"
  rm -rf "$home.new/build"
  echo "$sum" >"$home.new/.complete"
  rm -rf "$home"
  mv "$home.new" "$home"
  echo "$home"
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
