package io.promstream.flink;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * Counts promstream events by kind over tumbling windows with Flink SQL: the
 * recipe of docs/flink.md, run as a bounded batch job on a local MiniCluster.
 * It reads the topic from its first offset to the offsets at start (so it
 * ends), decodes Confluent-framed Avro with the schemas the registry holds,
 * and prints one line per window and kind: window start (ms since the epoch),
 * kind and count, tab-separated, sorted.
 *
 * <p>The writer's schema has enums (source, severity); Avro resolves an enum
 * only against an enum, so the reader's schema is the event schema itself
 * ('avro-confluent.schema'), not the one Flink would derive from the table, and
 * the enums arrive as strings.
 *
 * <p>Arguments: bootstrap servers, registry URL, topic, window length in
 * seconds, path of the event schema (schemas/avro/event.avsc).
 */
public final class EventCounts {
  private EventCounts() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println(
          "usage: EventCounts <bootstrap servers> <registry url> <topic> <window seconds> <event.avsc>");
      System.exit(2);
    }
    String bootstrap = args[0];
    String registry = args[1];
    String topic = args[2];
    long windowSeconds = Long.parseLong(args[3]);
    // SQL string literals escape a quote by doubling it.
    String schema = Files.readString(Path.of(args[4])).replace("'", "''");

    TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inBatchMode());
    env.getConfig().set("table.local-time-zone", "UTC");
    env.getConfig().set("parallelism.default", "1");
    // The table is the event schema of schemas/avro/event.avsc, its enums as strings.
    env.executeSql(
        "CREATE TABLE events (\n"
            + "  `time` BIGINT NOT NULL,\n"
            + "  host STRING NOT NULL,\n"
            + "  source STRING NOT NULL,\n"
            + "  kind STRING NOT NULL,\n"
            + "  severity STRING NOT NULL,\n"
            + "  message STRING NOT NULL,\n"
            + "  attributes MAP<STRING NOT NULL, STRING NOT NULL> NOT NULL,\n"
            + "  ts AS TO_TIMESTAMP_LTZ(`time`, 3),\n"
            + "  WATERMARK FOR ts AS ts\n"
            + ") WITH (\n"
            + "  'connector' = 'kafka',\n"
            + "  'topic' = '" + topic + "',\n"
            + "  'properties.bootstrap.servers' = '" + bootstrap + "',\n"
            + "  'scan.startup.mode' = 'earliest-offset',\n"
            + "  'scan.bounded.mode' = 'latest-offset',\n"
            + "  'format' = 'avro-confluent',\n"
            + "  'avro-confluent.url' = '" + registry + "',\n"
            + "  'avro-confluent.schema' = '" + schema + "'\n"
            + ")");
    String query =
        "SELECT window_start, kind, COUNT(*) AS events\n"
            + "FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '" + windowSeconds + "' SECOND))\n"
            + "GROUP BY window_start, window_end, kind";
    List<String> lines = new ArrayList<>();
    try (CloseableIterator<Row> rows = env.executeSql(query).collect()) {
      while (rows.hasNext()) {
        Row row = rows.next();
        lines.add(millis(row.getField(0)) + "\t" + row.getField(1) + "\t" + row.getField(2));
      }
    }
    lines.sort(null);
    for (String line : lines) System.out.println(line);
  }

  /** A window start as ms since the epoch, whether Flink hands it over as an instant or a UTC date-time. */
  private static long millis(Object windowStart) {
    if (windowStart instanceof Instant instant) return instant.toEpochMilli();
    if (windowStart instanceof LocalDateTime local) return local.toInstant(ZoneOffset.UTC).toEpochMilli();
    throw new IllegalStateException("window start of type " + windowStart.getClass());
  }
}
