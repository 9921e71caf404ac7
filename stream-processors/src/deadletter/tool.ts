/**
 * The dead-letter tool behind `promstream deadletter list|replay`: reads
 * `promstream.deadletter.v1` (format: schemas/docs/dead-letter.md) from its
 * start to its end at the time of the call, and re-drives the original
 * records to their original topic and partition once their cause is fixed.
 */
import {
  BACKFILL_HEADER,
  type DeadLetterInfo,
  originalHeaders,
  readDeadLetterHeaders,
  registerZstdCodec,
  TOPICS,
} from '@promstream/schemas';
import { Kafka, logLevel } from 'kafkajs';
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

function client(brokers: string[]): Kafka {
  registerZstdCodec();
  return new Kafka({ clientId: 'promstream-deadletter', brokers, logLevel: logLevel.NOTHING });
}

/** Reads every letter the topic holds now (each partition up to its end at the call), oldest first. */
async function readAll(kafka: Kafka, topic: string): Promise<{ all: StoredDeadLetter[]; total: number }> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, { low: number; high: number }>;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return { all: [], total: 0 };
    ends = new Map(
      (await admin.fetchTopicOffsets(topic)).map((p) => [
        p.partition,
        { low: Number(p.low), high: Number(p.high) },
      ]),
    );
  } catch (err) {
    throw new StreamError('LOG', `read the offsets of ${topic}`, { cause: err });
  } finally {
    await admin.disconnect();
  }
  const wanted = [...ends.entries()].filter(([, e]) => e.high > e.low);
  const all: StoredDeadLetter[] = [];
  if (wanted.length === 0) return { all, total: 0 };
  // A consumer of its own group, committing nothing: listing changes nothing.
  const consumer = kafka.consumer({ groupId: `promstream-deadletter-${process.pid}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const left = new Set(wanted.map(([p]) => p));
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition)!.high;
            for (const m of batch.messages) {
              const offset = Number(m.offset);
              if (offset >= end) break;
              const headers = m.headers ?? {};
              all.push({
                dlqPartition: batch.partition,
                dlqOffset: offset,
                key: m.key,
                value: m.value,
                headers: originalHeaders(headers),
                info: readDeadLetterHeaders(headers),
              });
            }
            if (Number(batch.lastOffset()) >= end - 1) {
              left.delete(batch.partition);
              if (left.size === 0) resolve();
            }
          },
        })
        .catch(reject);
    });
  } catch (err) {
    throw err instanceof StreamError ? err : new StreamError('LOG', `read ${topic}`, { cause: err });
  } finally {
    await consumer.disconnect();
  }
  all.sort((a, b) => a.dlqPartition - b.dlqPartition || a.dlqOffset - b.dlqOffset);
  return { all, total: all.length };
}

/** The dead letters that match the filter, oldest first. */
export async function listDeadLetters(options: DeadLetterToolOptions): Promise<StoredDeadLetter[]> {
  const { all } = await readAll(client(options.brokers), options.topic ?? TOPICS.deadletter);
  return all.filter((l) => matches(l.info, options.filter));
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
  const kafka = client(options.brokers);
  const { all } = await readAll(kafka, options.topic ?? TOPICS.deadletter);
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
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    for (const [topic, messages] of byTopic) {
      await producer.send({ topic, acks: -1, messages });
      result.replayed += messages.length;
    }
  } catch (err) {
    throw new StreamError('LOG', 're-drive dead letters to their topics', { cause: err });
  } finally {
    await producer.disconnect();
  }
  return result;
}
