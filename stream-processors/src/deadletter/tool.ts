/**
 * The dead-letter tool behind `promstream deadletter list|replay`: reads
 * `promstream.deadletter.v1` (format: schemas/docs/dead-letter.md) from its
 * start to its end at the time of the call, and re-drives the original
 * records to their original topic and partition once their cause is fixed.
 */
import { createLogClient, type LogClient, LogError, LogErrorCode } from '@promstream/log';
import {
  BACKFILL_HEADER,
  type DeadLetterInfo,
  originalHeaders,
  readDeadLetterHeaders,
  TOPICS,
} from '@promstream/schemas';
import { StreamError } from '../errors.js';

/** Which dead letters a command works on; every field narrows, none means all. */
export interface DeadLetterFilter {
  /** Only letters of this original topic. */
  topic?: string;
  /** Only letters of this original partition. */
  partition?: number;
  /** Original offsets from (inclusive) and to (exclusive). */
  fromOffset?: number;
  toOffset?: number;
  processor?: string;
  reason?: string;
}

/** One record of the dead-letter topic. */
export interface StoredDeadLetter {
  /** Its own offset on the dead-letter topic (partition `dlqPartition`). */
  dlqPartition: number;
  dlqOffset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** The original record's own headers. */
  headers: Record<string, Buffer | Buffer[]>;
  info: DeadLetterInfo;
}

/** Options of the dead-letter tool. */
export interface DeadLetterToolOptions {
  brokers: string[];
  /** The dead-letter topic (default promstream.deadletter.v1). */
  topic?: string;
  filter?: DeadLetterFilter;
}

/** What a replay did. */
export interface DeadLetterReplayResult {
  /** Letters re-driven, by original topic and partition. */
  replayed: number;
  /** Letters that matched but repeat an original already re-driven in this run (at-least-once dead-lettering). */
  duplicates: number;
  /** Letters of the topic that did not match the filter. */
  skipped: number;
}

function matches(info: DeadLetterInfo, f: DeadLetterFilter | undefined): boolean {
  if (f === undefined) return true;
  return (
    (f.topic === undefined || info.topic === f.topic) &&
    (f.partition === undefined || info.partition === f.partition) &&
    (f.fromOffset === undefined || info.offset >= f.fromOffset) &&
    (f.toOffset === undefined || info.offset < f.toOffset) &&
    (f.processor === undefined || info.processor === f.processor) &&
    (f.reason === undefined || info.reason === f.reason)
  );
}

function client(brokers: string[]): LogClient {
  return createLogClient({ clientId: 'promstream-deadletter', brokers });
}

/** Reads every letter the topic holds now (each partition up to its end at the call), oldest first. */
async function readAll(log: LogClient, topic: string): Promise<{ all: StoredDeadLetter[]; total: number }> {
  const admin = log.admin();
  let ranges: Map<number, { from: number; to: number }>;
  try {
    ranges = new Map((await admin.watermarks(topic)).map((p) => [p.partition, { from: p.low, to: p.high }]));
  } catch (err) {
    if (err instanceof LogError && err.code === LogErrorCode.TopicMissing) return { all: [], total: 0 };
    throw new StreamError('LOG', `read the offsets of ${topic}`, { cause: err });
  } finally {
    await admin.close();
  }
  const all: StoredDeadLetter[] = [];
  // A reader without a group, committing nothing: listing changes nothing.
  try {
    await log.readRanges({
      topic,
      ranges,
      handler: async (partition, records) => {
        for (const m of records) {
          all.push({
            dlqPartition: partition,
            dlqOffset: m.offset,
            key: m.key,
            value: m.value,
            headers: originalHeaders(m.headers),
            info: readDeadLetterHeaders(m.headers),
          });
        }
      },
    });
  } catch (err) {
    throw err instanceof StreamError ? err : new StreamError('LOG', `read ${topic}`, { cause: err });
  }
  all.sort((a, b) => a.dlqPartition - b.dlqPartition || a.dlqOffset - b.dlqOffset);
  return { all, total: all.length };
}

/** The dead letters that match the filter, oldest first. */
export async function listDeadLetters(options: DeadLetterToolOptions): Promise<StoredDeadLetter[]> {
  const log = client(options.brokers);
  try {
    const { all } = await readAll(log, options.topic ?? TOPICS.deadletter);
    return all.filter((l) => matches(l.info, options.filter));
  } finally {
    await log.close();
  }
}

/**
 * Re-drives the matching dead letters: each original key, value and headers,
 * byte for byte, to its original topic and partition, with the backfill
 * header (`deadletter-replay`) so the block builder places its samples by
 * the backfill rules (they are old by now). Each original goes once per run,
 * even when it was dead-lettered twice. The letters stay on the dead-letter
 * topic; a record that fails again is dead-lettered again.
 */
export async function replayDeadLetters(options: DeadLetterToolOptions): Promise<DeadLetterReplayResult> {
  const log = client(options.brokers);
  try {
    return await replayMatching(log, options);
  } finally {
    await log.close();
  }
}

async function replayMatching(
  log: LogClient,
  options: DeadLetterToolOptions,
): Promise<DeadLetterReplayResult> {
  const { all } = await readAll(log, options.topic ?? TOPICS.deadletter);
  const result: DeadLetterReplayResult = { replayed: 0, duplicates: 0, skipped: 0 };
  const seen = new Set<string>();
  const byTopic = new Map<
    string,
    {
      partition: number;
      key: Buffer | null;
      value: Buffer | null;
      headers: Record<string, Buffer | Buffer[]>;
    }[]
  >();
  for (const l of all) {
    if (!matches(l.info, options.filter)) {
      result.skipped++;
      continue;
    }
    const id = `${l.info.topic}\u0000${l.info.partition}\u0000${l.info.offset}`;
    if (seen.has(id)) {
      result.duplicates++;
      continue;
    }
    seen.add(id);
    const list = byTopic.get(l.info.topic) ?? [];
    list.push({
      partition: l.info.partition,
      key: l.key,
      value: l.value,
      headers: { ...l.headers, [BACKFILL_HEADER]: Buffer.from('deadletter-replay') },
    });
    byTopic.set(l.info.topic, list);
  }
  if (byTopic.size === 0) return result;
  const producer = log.producer({ producers: 1 });
  try {
    for (const [topic, messages] of byTopic) {
      await producer.send(topic, messages);
      result.replayed += messages.length;
    }
  } catch (err) {
    throw new StreamError('LOG', 're-drive dead letters to their topics', { cause: err });
  }
  return result;
}
