/**
 * Re-produces the raw records of a topic (promstream.samples.v1 by default)
 * in an offset or time range onto another Kafka cluster or topic, partition
 * for partition, with their keys, values, headers and timestamps untouched,
 * so the destination's block builder builds the same blocks. The result
 * names the next offset of every partition: `--from` with those offsets
 * resumes an interrupted export.
 */
import { randomUUID } from 'node:crypto';
import { type IHeaders, Kafka, logLevel } from 'kafkajs';
import { MigrateError } from './errors.js';

/** An offset, or a time (ms) that stands for the first offset at or after it. */
export type LogPoint = { offset: number } | { time: number };

/** Options of exportLog. */
export interface ExportLogOptions {
  brokers: string[];
  toBrokers: string[];
  /** Source topic (default promstream.samples.v1). */
  topic?: string;
  /** Destination topic (default the source topic's name). */
  toTopic?: string;
  /** Start, inclusive, for every partition (default the start of the log). */
  from?: LogPoint;
  /** End, exclusive (default the end of the log when the export starts). */
  to?: LogPoint;
  /** Progress: records copied so far of the total. */
  onProgress?: (p: { records: number; totalRecords: number; bytes: number }) => void;
}

/** What an export to a log did. */
export interface ExportLogResult {
  records: number;
  bytes: number;
  seconds: number;
  /** Per partition, the next offset to copy: pass as `from` to resume. */
  next: Record<number, number>;
}

async function offsetsAt(
  admin: ReturnType<Kafka['admin']>,
  topic: string,
  point: LogPoint | undefined,
  fallback: 'low' | 'high',
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const bounds = await admin.fetchTopicOffsets(topic);
  for (const b of bounds) out.set(b.partition, Number(fallback === 'low' ? b.low : b.high));
  if (point === undefined) return out;
  if ('offset' in point) {
    for (const b of bounds)
      out.set(b.partition, Math.min(Math.max(point.offset, Number(b.low)), Number(b.high)));
    return out;
  }
  // A time past the last record answers -1: the end of the partition.
  for (const o of await admin.fetchTopicOffsetsByTimestamp(topic, point.time)) {
    const n = Number(o.offset);
    out.set(o.partition, n < 0 ? Number(bounds.find((b) => b.partition === o.partition)!.high) : n);
  }
  return out;
}

/** Copies the records of [from, to) of every partition to the destination cluster. */
export async function exportLog(options: ExportLogOptions): Promise<ExportLogResult> {
  const started = performance.now();
  const topic = options.topic ?? 'promstream.samples.v1';
  const toTopic = options.toTopic ?? topic;
  const source = new Kafka({
    clientId: 'promstream-export',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  });
  const dest = new Kafka({
    clientId: 'promstream-export',
    brokers: options.toBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = source.admin();
  const destAdmin = dest.admin();
  const producer = dest.producer({ idempotent: true, maxInFlightRequests: 1 });
  const groupId = `promstream-export-${randomUUID()}`;
  const consumer = source.consumer({ groupId, maxBytes: 16 << 20 });
  const next: Record<number, number> = {};
  let records = 0;
  let bytes = 0;
  try {
    try {
      await Promise.all([admin.connect(), destAdmin.connect(), producer.connect()]);
    } catch (e) {
      throw new MigrateError('SOURCE_READ', 'connect to the source and destination clusters', { cause: e });
    }
    let starts: Map<number, number>;
    let ends: Map<number, number>;
    try {
      starts = await offsetsAt(admin, topic, options.from, 'low');
      ends = await offsetsAt(admin, topic, options.to, 'high');
    } catch (e) {
      throw new MigrateError('SOURCE_READ', `read offsets of ${topic}`, { cause: e });
    }
    const partitions = [...starts.keys()].sort((a, b) => a - b);
    try {
      // The destination topic gets the source's partition count, so each record keeps its partition.
      await destAdmin.createTopics({
        topics: [{ topic: toTopic, numPartitions: partitions.length }],
        waitForLeaders: true,
      });
    } catch (e) {
      throw new MigrateError('DESTINATION_WRITE', `create topic ${toTopic}`, { cause: e });
    }
    const destPartitions = (await destAdmin.fetchTopicOffsets(toTopic)).length;
    if (destPartitions < partitions.length) {
      throw new MigrateError(
        'BAD_OPTIONS',
        `destination topic ${toTopic} has ${destPartitions} partitions, the source ${partitions.length}`,
      );
    }
    let totalRecords = 0;
    const pending = new Set<number>();
    for (const p of partitions) {
      next[p] = starts.get(p)!;
      const n = ends.get(p)! - starts.get(p)!;
      if (n > 0) {
        totalRecords += n;
        pending.add(p);
      }
    }
    options.onProgress?.({ records, totalRecords, bytes });
    if (pending.size === 0) return { records, bytes, seconds: (performance.now() - started) / 1000, next };

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let finish: (e?: unknown) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      finish = (e?: unknown) => (e === undefined ? resolve() : reject(e));
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const p = batch.partition;
        if (!pending.has(p)) return;
        const end = ends.get(p)!;
        const messages: {
          partition: number;
          key: Buffer | null;
          value: Buffer | null;
          headers?: IHeaders;
          timestamp: string;
        }[] = [];
        let last = -1;
        for (const m of batch.messages) {
          const o = Number(m.offset);
          // Compacted or aborted offsets leave gaps; only the range counts.
          if (o < next[p]! || o >= end) continue;
          messages.push({
            partition: p,
            key: m.key,
            value: m.value,
            headers: m.headers,
            timestamp: m.timestamp,
          });
          bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
          last = o;
        }
        try {
          if (messages.length > 0) await producer.send({ topic: toTopic, acks: -1, messages });
        } catch (e) {
          finish(new MigrateError('DESTINATION_WRITE', `produce to ${toTopic} partition ${p}`, { cause: e }));
          return;
        }
        if (last >= 0) {
          records += messages.length;
          next[p] = last + 1;
          resolveOffset(String(last));
        }
        const high = Number(batch.highWatermark);
        if (next[p]! >= end || (last < 0 && Number(batch.lastOffset()) + 1 >= Math.min(end, high))) {
          next[p] = Math.max(next[p]!, end);
          pending.delete(p);
        }
        options.onProgress?.({ records, totalRecords, bytes });
        await heartbeat();
        if (pending.size === 0) finish();
      },
    });
    for (const p of partitions) {
      if (pending.has(p)) consumer.seek({ topic, partition: p, offset: String(starts.get(p)!) });
    }
    // Retention may delete the rest of a partition's range while the export
    // runs; no batch ever comes for it then, so the log start is checked too.
    const watch = setInterval(() => {
      admin.fetchTopicOffsets(topic).then(
        (bounds) => {
          for (const b of bounds) {
            const p = b.partition;
            if (pending.has(p) && Number(b.low) >= ends.get(p)!) {
              next[p] = ends.get(p)!;
              pending.delete(p);
            }
          }
          if (pending.size === 0) finish();
        },
        () => {},
      );
    }, 2000);
    try {
      await done;
    } finally {
      clearInterval(watch);
    }
    return { records, bytes, seconds: (performance.now() - started) / 1000, next };
  } finally {
    await consumer.disconnect().catch(() => {});
    await Promise.allSettled([producer.disconnect(), destAdmin.disconnect()]);
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
