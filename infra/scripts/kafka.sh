#!/usr/bin/env bash
# Apache Kafka for tests and developers: a KRaft single node on loopback,
# its jars taken from Maven Central (no Docker, no tarball).
#   kafka.sh install   fetch the jars into the cache
#   kafka.sh start     format a fresh log dir, start, print `export KAFKA_BROKERS=...`
#   kafka.sh stop      stop it
set -euo pipefail
source "$(dirname "$0")/common.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
home="$PROMSTREAM_CACHE/kafka-$KAFKA_VERSION"
libs="$home/libs"
run="$PROMSTREAM_RUN/kafka"

# kafka_2.13 is the broker (core); kafka-tools holds the command-line tools
# (kafka-topics, the console producer and consumer, kafka-consumer-groups),
# without Kafka Connect's runtime, which none of them loads; log4j-slf4j-impl
# routes Kafka's slf4j 1.x logging to log4j2.
pom() {
  cat <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>promstream</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion></exclusions>
    </dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
}

# The cache is complete when its marker holds the digest of the pom it was
# fetched with, so a changed pom fetches again. The new jars go into a
# directory beside libs that replaces it whole, so a Kafka running from
# the old jars keeps the files it has open.
install() {
  local digest
  digest=$(pom | sha256sum | cut -d' ' -f1)
  if [ -f "$libs/.complete" ] && [ "$(cat "$libs/.complete")" = "$digest" ]; then return 0; fi
  command -v java >/dev/null || { log "java is missing"; exit 1; }
  command -v mvn >/dev/null || { log "mvn is missing"; exit 1; }
  log "fetching Kafka $KAFKA_VERSION from Maven Central into $libs"
  mkdir -p "$home"
  pom >"$home/pom.xml"
  rm -rf "$libs.new" "$libs.old"
  mvn -q -B -f "$home/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs.new" -DincludeScope=runtime
  echo "$digest" >"$libs.new/.complete"
  if [ -d "$libs" ]; then mv "$libs" "$libs.old"; fi
  mv "$libs.new" "$libs"
  rm -rf "$libs.old"
}

start() {
  install
  stop_pidfile "$run/kafka.pid"
  rm -rf "$run"
  mkdir -p "$run/logs"
  cat >"$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/logs
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=5000
log.cleaner.backoff.ms=1000
PROPS
  cat >"$run/log4j2.properties" <<'L4J'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
L4J
  local cp="$libs/*"
  local id
  id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  java -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$run/server.properties" >"$run/format.log" 2>&1
  nohup java -Xms256m -Xmx1g -Dlog4j2.configurationFile="$run/log4j2.properties" -cp "$cp" kafka.Kafka "$run/server.properties" \
    >"$run/kafka.out" 2>&1 </dev/null &
  echo $! >"$run/kafka.pid"
  if ! wait_port 127.0.0.1 "$KAFKA_PORT" 90; then
    log "Kafka did not start; its output:"; tail -n 50 "$run/kafka.out" >&2; exit 1
  fi
  log "Kafka $KAFKA_VERSION listens on 127.0.0.1:$KAFKA_PORT (pid $(cat "$run/kafka.pid"))"
  echo "export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
}

stop() { stop_pidfile "$run/kafka.pid"; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
