import { KafkaLogAdmin } from './admin.js';
import type { ClientParts } from './client.js';
import { type ConsumedRecord, KafkaLogConsumer, type LogBatch } from './consumer.js';

/** An offset range of one partition: from inclusive, to exclusive. */
export interface OffsetRange {
  from: number;
  to: number;
}

/** Options of a bounded read. */
export interface ReadRangesOptions {
  topic: string;
  /** The range of each partition to read; partitions not named are not read. */
  ranges: ReadonlyMap<number, OffsetRange>;
  /** Receives the records of each batch that fall in its partition's range, in order. */
  handler: (partition: number, records: readonly ConsumedRecord[], batch: LogBatch) => Promise<void>;
  /** The most bytes one fetch returns per partition (default 1 MiB). */
  maxBytesPerPartition?: number;
  /** How often the log start is checked for ranges retention deleted meanwhile, ms (default 2 s). */
  retentionCheckMs?: number;
}

/**
 * Reads an offset range of every partition named, then stops: the replay,
 * the export and the dead-letter tool read the log this way. A partition is
 * done once a batch reaches the end of its range (compaction may leave the
 * last offsets empty) or retention has deleted the rest of it. Resolves when
 * every partition is done; rejects with the handler's error.
 */
export async function readRanges(parts: ClientParts, options: ReadRangesOptions): Promise<void> {
  const { topic, ranges } = options;
  const left = new Set([...ranges].filter(([, r]) => r.to > r.from).map(([p]) => p));
  if (left.size === 0) return;
  const consumer = new KafkaLogConsumer(parts, {
    topic,
    maxBytesPerPartition: options.maxBytesPerPartition,
    // Partitions outside the ranges start at their end and are paused at once.
    start: (partition, _low, high) => ranges.get(partition)?.from ?? high,
  });
  const admin = new KafkaLogAdmin(parts);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const finish = (partition: number) => {
        if (!left.delete(partition)) return;
        consumer.pause(partition);
        if (left.size === 0) resolve();
      };
      consumer
        .run(async (batch) => {
          const range = ranges.get(batch.partition);
          if (range === undefined || !left.has(batch.partition)) return;
          const inRange = batch.records.filter((r) => r.offset >= range.from && r.offset < range.to);
          try {
            await options.handler(batch.partition, inRange, batch);
          } catch (err) {
            reject(err);
            return;
          }
          if (batch.nextOffset >= range.to) finish(batch.partition);
        })
        .then(() => {
          for (const p of [...ranges.keys()].filter((p) => !left.has(p))) consumer.pause(p);
        }, reject);
      timer = setInterval(() => {
        admin.watermarks(topic).then(
          (bounds) => {
            for (const b of bounds) if (b.low >= (ranges.get(b.partition)?.to ?? 0)) finish(b.partition);
          },
          () => {},
        );
      }, options.retentionCheckMs ?? 2000);
    });
  } finally {
    if (timer !== undefined) clearInterval(timer);
    await Promise.allSettled([consumer.close(), admin.close()]);
  }
}
