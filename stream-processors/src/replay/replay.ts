import { type ConsumedRecord, createLogClient, type LogClient, type OffsetRange } from '@promstream/log';
import { backfillSource } from '@promstream/schemas';
import type { Logger } from 'pino';
import { blockUlid } from '../block-builder/block-id.js';
import { placementRules } from '../block-builder/builder.js';
import { PartitionHead } from '../block-builder/partition-head.js';
import { checkRecordTenant } from '../block-builder/record-rules.js';
import type {
  BlockSink,
  PartitionState,
  PartitionStateStore,
  RecordDecoder,
} from '../block-builder/seams.js';
import { StreamError } from '../errors.js';

/** Where a replay starts or ends: a log offset (the same on every partition) or a time. */
export type ReplayPoint = { offset: number } | { time: number };

/** Options of a replay. */
export interface ReplayOptions {
  brokers: string[];
  topic: string;
  /** Start (default: each partition's first offset). */
  from?: ReplayPoint;
  /** End, exclusive (default: each partition's end when the replay starts). */
  to?: ReplayPoint;
  /** Partitions to replay (default all). */
  partitions?: number[];
  blockDuration?: number;
  outOfOrderWindow?: number;
  futureGrace?: number;
  backfillIdle?: number;
  decoder: RecordDecoder;
  sink: BlockSink;
  /** Saved per partition at the end, unless it would move an existing state back. */
  state?: PartitionStateStore;
  logger: Logger;
  /** Called as records are read, for progress bars. */
  onProgress?: (progress: ReplayProgress) => void;
}

/** How far a replay is. */
export interface ReplayProgress {
  records: number;
  totalRecords: number;
  samples: number;
  blocks: number;
}

/** What a replay did. */
export interface ReplayResult extends ReplayProgress {
  dropped: number;
  /**
   * Records that could not be processed, by dead-letter reason. Replay only
   * counts them: the block builder is the processor that dead-letters them.
   */
  unprocessable: Record<string, number>;
  seconds: number;
  partitions: { partition: number; from: number; to: number; boundary: number; nextOffset: number }[];
}

/**
 * Rebuilds blocks from the log: reads each partition over an offset range
 * with the block builder's own head, so a replay from the start of the log
 * writes the same blocks, under the same ids, as the builder did. Blocks of
 * ranges that are not yet due stay for the builder. Running it again writes
 * the same objects again, so an interrupted replay can simply be restarted.
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  const client = createLogClient({
    clientId: 'promstream-replay',
    brokers: options.brokers,
    logger: options.logger,
  });
  const admin = client.admin();
  const { topic } = options;
  let plan: { partition: number; from: number; to: number }[];
  try {
    const offsets = await admin.watermarks(topic);
    const resolve = async (point: ReplayPoint | undefined, fallback: 'low' | 'high') => {
      if (point === undefined) return new Map(offsets.map((p) => [p.partition, p[fallback]]));
      if ('offset' in point) return new Map(offsets.map((p) => [p.partition, point.offset]));
      return admin.offsetsAt(topic, point.time);
    };
    const from = await resolve(options.from, 'low');
    const to = await resolve(options.to, 'high');
    plan = offsets
      .filter((p) => options.partitions === undefined || options.partitions.includes(p.partition))
      .map((p) => ({
        partition: p.partition,
        from: Math.max(p.low, from.get(p.partition) ?? 0),
        to: Math.min(p.high, to.get(p.partition) ?? p.high),
      }))
      .sort((a, b) => a.partition - b.partition);
  } catch (err) {
    await client.close();
    throw new StreamError('LOG', `read the offsets of ${topic}`, { cause: err });
  }
  const progress: ReplayProgress = {
    records: 0,
    totalRecords: plan.reduce((n, p) => n + Math.max(0, p.to - p.from), 0),
    samples: 0,
    blocks: 0,
  };
  const result: ReplayResult = { ...progress, dropped: 0, unprocessable: {}, seconds: 0, partitions: [] };
  try {
    const outcomes = await replayPartitions(client, options, plan, progress, result.unprocessable);
    for (const part of plan) {
      const outcome = outcomes.get(part.partition)!;
      result.partitions.push({ ...part, ...outcome.state });
      result.dropped += outcome.dropped;
    }
  } finally {
    await client.close();
  }
  Object.assign(result, progress);
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

interface PartitionRun {
  part: { partition: number; from: number; to: number };
  head: PartitionHead;
  done: boolean;
}

async function replayPartitions(
  client: LogClient,
  options: ReplayOptions,
  plan: { partition: number; from: number; to: number }[],
  progress: ReplayProgress,
  unprocessable: Record<string, number>,
): Promise<Map<number, { state: PartitionState; dropped: number }>> {
  const { topic } = options;
  const runs = new Map<number, PartitionRun>();
  const rules = placementRules(options);
  for (const part of plan) {
    const head = new PartitionHead({ rules });
    runs.set(part.partition, { part, head, done: part.to <= part.from });
  }
  const cut = async (partition: number, head: PartitionHead) => {
    for (const block of head.cut()) {
      if (block.samples === 0) continue;
      const ulid = blockUlid({
        topic,
        partition,
        tenant: block.tenant,
        firstOffset: block.firstOffset,
        lastOffset: block.lastOffset,
        minTime: block.rangeStart,
      });
      await options.sink.write(ulid, block, {
        topic,
        partition,
        firstOffset: block.firstOffset,
        lastOffset: block.lastOffset,
      });
      progress.blocks++;
    }
  };
  const ranges = new Map<number, OffsetRange>(plan.map((p) => [p.partition, { from: p.from, to: p.to }]));
  await client.readRanges({
    topic,
    ranges,
    maxBytesPerPartition: 8 << 20,
    handler: async (partition, records) => {
      const run = runs.get(partition);
      if (run === undefined || run.done) return;
      for (const message of records) {
        if (message.offset <= run.head.lastRead()) continue;
        await replayRecord(run.head, message, options, progress, unprocessable);
      }
      await cut(partition, run.head);
      options.onProgress?.({ ...progress });
    },
  });
  const out = new Map<number, { state: PartitionState; dropped: number }>();
  for (const { part, head } of runs.values()) {
    await cut(part.partition, head);
    const state = {
      boundary: head.boundary,
      nextOffset: head.lastRead() < 0 ? part.from : head.commitOffset(),
      ...head.restoreState(),
      rules,
    };
    if (options.state !== undefined) {
      const existing = await options.state.load(topic, part.partition);
      // A replay writes no dead letters: it keeps what the builder recorded about them.
      if (existing === undefined || existing.boundary < state.boundary)
        await options.state.save(topic, part.partition, {
          ...state,
          handledThrough: existing?.handledThrough ?? -1,
        });
    }
    out.set(part.partition, {
      state,
      dropped: head.dropped.too_old + head.dropped.too_far_future + head.dropped.covered,
    });
  }
  return out;
}

/** Reads one record into the head, as the block builder does; counts what cannot be processed. */
async function replayRecord(
  head: PartitionHead,
  message: ConsumedRecord,
  options: ReplayOptions,
  progress: ReplayProgress,
  unprocessable: Record<string, number>,
): Promise<void> {
  const { offset } = message;
  // Every record moves the clock, as in the block builder.
  head.beginRecord(offset, message.timestamp, backfillSource(message.headers) !== undefined);
  if (message.value !== null) {
    try {
      const decoded = await options.decoder.decode(message.value);
      const refused = checkRecordTenant(decoded.tenant);
      if (refused !== undefined) throw refused;
      let unplaced = 0;
      for (const s of decoded.series) {
        const r = head.append(decoded.tenant, s.labels, s.t, s.v);
        progress.samples += r.placed;
        unplaced += r.tooOld + r.tooFarFuture;
      }
      if (unplaced > 0) throw new StreamError('SAMPLE_TOO_OLD', `${unplaced} samples cannot be placed`);
    } catch (err) {
      if (err instanceof StreamError && err.retryable) throw err;
      const reason = err instanceof StreamError ? err.reason : 'bad_record';
      unprocessable[reason] = (unprocessable[reason] ?? 0) + 1;
      options.logger.warn(
        { offset, reason, err },
        'a record that cannot be processed (the block builder dead-letters it)',
      );
    }
  }
  head.endRecord(offset);
  progress.records++;
}
