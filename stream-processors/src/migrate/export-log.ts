/**
 * Re-produces the raw records of a topic (promstream.samples.v1 by default)
 * in an offset or time range onto another Kafka cluster or topic, partition
 * for partition, with their keys, values, headers and timestamps untouched,
 * so the destination's block builder builds the same blocks. The result
 * names the next offset of every partition: `--from` with those offsets
 * resumes an interrupted export.
 */
import { createLogClient, type LogAdmin, type LogHeaderValue } from '@promstream/log';
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
  admin: LogAdmin,
  topic: string,
  point: LogPoint | undefined,
  fallback: 'low' | 'high',
): Promise<Map<number, number>> {
  const bounds = await admin.watermarks(topic);
  const out = new Map<number, number>();
  for (const b of bounds) out.set(b.partition, fallback === 'low' ? b.low : b.high);
  if (point === undefined) return out;
  if ('offset' in point) {
    for (const b of bounds) out.set(b.partition, Math.min(Math.max(point.offset, b.low), b.high));
    return out;
  }
  return admin.offsetsAt(topic, point.time);
}

/** Copies the records of [from, to) of every partition to the destination cluster. */
export async function exportLog(options: ExportLogOptions): Promise<ExportLogResult> {
  const started = performance.now();
  const topic = options.topic ?? 'promstream.samples.v1';
  const toTopic = options.toTopic ?? topic;
  const source = createLogClient({ clientId: 'promstream-export', brokers: options.brokers });
  const dest = createLogClient({ clientId: 'promstream-export', brokers: options.toBrokers });
  const admin = source.admin();
  const destAdmin = dest.admin();
  // The records keep the compression of the source's batches' contents: zstd again on the way out.
  const producer = dest.producer({ producers: 1 });
  const next: Record<number, number> = {};
  let records = 0;
  let bytes = 0;
  try {
    let starts: Map<number, number>;
    let ends: Map<number, number>;
    try {
      starts = await offsetsAt(admin, topic, options.from, 'low');
      ends = await offsetsAt(admin, topic, options.to, 'high');
    } catch (e) {
      throw new MigrateError('SOURCE_READ', `read offsets of ${topic}`, { cause: e });
    }
    const partitions = [...starts.keys()].sort((a, b) => a - b);
    let destPartitions: number;
    try {
      // The destination topic gets the source's partition count, so each record keeps its partition.
      await destAdmin.ensureTopics([{ topic: toTopic, partitions: partitions.length }]);
      destPartitions = (await destAdmin.watermarks(toTopic)).length;
    } catch (e) {
      throw new MigrateError('DESTINATION_WRITE', `create topic ${toTopic}`, { cause: e });
    }
    if (destPartitions < partitions.length) {
      throw new MigrateError(
        'BAD_OPTIONS',
        `destination topic ${toTopic} has ${destPartitions} partitions, the source ${partitions.length}`,
      );
    }
    let totalRecords = 0;
    const ranges = new Map<number, { from: number; to: number }>();
    for (const p of partitions) {
      next[p] = starts.get(p)!;
      const n = ends.get(p)! - starts.get(p)!;
      if (n > 0) {
        totalRecords += n;
        ranges.set(p, { from: starts.get(p)!, to: ends.get(p)! });
      }
    }
    options.onProgress?.({ records, totalRecords, bytes });
    await source.readRanges({
      topic,
      ranges,
      maxBytesPerPartition: 16 << 20,
      handler: async (p, batch) => {
        if (batch.length === 0) return;
        try {
          await producer.send(
            toTopic,
            batch.map((m) => ({
              partition: p,
              key: m.key,
              value: m.value,
              headers: withoutUndefined(m.headers),
              timestamp: m.timestamp,
            })),
          );
        } catch (e) {
          throw new MigrateError('DESTINATION_WRITE', `produce to ${toTopic} partition ${p}`, { cause: e });
        }
        for (const m of batch) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
        records += batch.length;
        next[p] = batch[batch.length - 1]!.offset + 1;
        options.onProgress?.({ records, totalRecords, bytes });
      },
    });
    // Every range is read to its end (compaction or retention may have left its last offsets empty).
    for (const [p, r] of ranges) next[p] = Math.max(next[p]!, r.to);
    return { records, bytes, seconds: (performance.now() - started) / 1000, next };
  } finally {
    await Promise.allSettled([source.close(), dest.close()]);
  }
}

/** Headers as read, without empty entries, to write again. */
function withoutUndefined(
  headers: Record<string, LogHeaderValue | undefined>,
): Record<string, LogHeaderValue> {
  const out: Record<string, LogHeaderValue> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  return out;
}
