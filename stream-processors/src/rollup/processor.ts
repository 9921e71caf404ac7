import { createHash } from 'node:crypto';
import { createLogClient, type LogRecord } from '@promstream/log';
import { partitionFor, seriesKey, TOPICS } from '@promstream/schemas';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { RecordDecoder } from '../block-builder/seams.js';
import { StreamError } from '../errors.js';
import { type AggregatorSnapshot, PartitionAggregator } from './aggregator.js';
import { Combiner, type CombinerSnapshot, type OutputBatch } from './combiner.js';
import type { RollupRule } from './config.js';
import { type RollupMetrics, rollupMetrics } from './metrics.js';
import { decodePartial, encodePartial } from './partials.js';
import type { DerivedEncoder, DerivedSample, RollupFaults, RollupStateStore } from './seams.js';
import { type StageMachine, StageRunner } from './stage-runner.js';

/** Options of the rollup processor. */
export interface RollupOptions {
  brokers: string[];
  rules: readonly RollupRule[];
  /** Names the rollup: its consumer groups and snapshot prefix. */
  name: string;
  /** Samples topic (default promstream.samples.v1). */
  samplesTopic?: string;
  /** Partials topic (default promstream.rollup-partials.v1), created with the samples topic's partition count. */
  partialsTopic?: string;
  /** Derived topic (default promstream.derived.v1). */
  derivedTopic?: string;
  /** How long after its end a window still takes samples, in log time (ms). */
  lateMs: number;
  decoder: RecordDecoder;
  encoder: DerivedEncoder;
  store: RollupStateStore;
  logger: Logger;
  registry?: Registry;
  faults?: RollupFaults;
  /** Consumer-group session timeout, ms (default 15 s). */
  sessionTimeoutMs?: number;
  /** The most bytes one fetch returns per partition (the log's default when absent). */
  maxBytesPerPartition?: number;
  onCrash?: (err: Error) => void;
}

/** A running rollup processor. */
export interface RollupProcessor {
  readonly registry: Registry;
  readonly metrics: RollupMetrics;
  stop(): Promise<void>;
}

/** A stable hash of the rules, so a snapshot is only restored into the rules it was built with. */
export function rulesHash(rules: readonly RollupRule[]): string {
  const text = JSON.stringify(rules, (k, v) => (k === 'match' ? undefined : v));
  const match = rules.map((r) => r.match.map((ms) => ms.map((m) => `${m.name}${m.type}${m.value}`)));
  return createHash('sha256').update(text).update(JSON.stringify(match)).digest('hex').slice(0, 16);
}

/**
 * Starts both stages (README.md): the aggregate stage reads the samples
 * topic by partition and writes partial aggregates keyed by output group;
 * the combine stage reads those and writes each completed window to the
 * derived topic.
 */
export async function startRollups(options: RollupOptions): Promise<RollupProcessor> {
  if (options.rules.length === 0) throw new StreamError('BAD_OPTIONS', 'rollups need at least one rule');
  if (!(options.lateMs >= 0)) throw new StreamError('BAD_OPTIONS', 'the allowed lateness must be 0 or more');
  const registry = options.registry ?? new Registry();
  const metrics = rollupMetrics(registry);
  const samplesTopic = options.samplesTopic ?? TOPICS.samples;
  const partialsTopic = options.partialsTopic ?? TOPICS.rollupPartials;
  const derivedTopic = options.derivedTopic ?? TOPICS.derived;
  const client = createLogClient({
    brokers: options.brokers,
    clientId: 'promstream-rollups',
    logger: options.logger,
  });
  const probe = client.producer();
  const sources = await probe.partitions(samplesTopic);
  await probe.close();
  const producer = client.producer({
    ensureTopics: [{ topic: partialsTopic, partitions: sources }],
    producers: 1,
  });
  const partials = await producer.partitions(partialsTopic);
  const derivedPartitions = await producer.partitions(derivedTopic);
  const hash = rulesHash(options.rules);
  const common = { producer, store: options.store, rulesHash: hash, logger: options.logger, metrics };
  const session = {
    sessionTimeoutMs: options.sessionTimeoutMs,
    maxBytesPerPartition: options.maxBytesPerPartition,
  };

  let aggregate: StageRunner | undefined;
  const aggConsumer = client.consumer({
    topic: samplesTopic,
    group: `promstream-rollups-${options.name}-aggregate`,
    ...session,
    onAssign: () => aggregate?.reset(),
    onCrash: (err) => options.onCrash?.(err),
  });
  aggregate = new StageRunner({
    ...common,
    stage: 'aggregate',
    consumer: aggConsumer,
    output: partialsTopic,
    faults: options.faults,
    create: (source) => aggregateMachine(options, source, partials, metrics),
  });

  let combine: StageRunner | undefined;
  const combineConsumer = client.consumer({
    topic: partialsTopic,
    group: `promstream-rollups-${options.name}-combine`,
    ...session,
    onAssign: () => combine?.reset(),
    onCrash: (err) => options.onCrash?.(err),
  });
  combine = new StageRunner({
    ...common,
    stage: 'combine',
    consumer: combineConsumer,
    output: derivedTopic,
    faults: options.faults,
    create: () => combineMachine(options, sources, derivedPartitions, metrics),
  });
  await combineConsumer.run(combine.handle);
  await aggConsumer.run(aggregate.handle);
  options.logger.info({ rules: options.rules.length, sources, partials, derivedTopic }, 'rollups running');
  return {
    registry,
    metrics,
    async stop() {
      await client.close();
    },
  };
}

function aggregateMachine(
  options: RollupOptions,
  source: number,
  partialsPartitions: number,
  metrics: RollupMetrics,
): StageMachine {
  const agg = new PartitionAggregator({
    rules: options.rules,
    source,
    lateMs: options.lateMs,
    partialsPartitions,
  });
  return {
    async feed(record) {
      if (record.value === null) return [];
      let batch: Awaited<ReturnType<RecordDecoder['decode']>>;
      try {
        batch = await options.decoder.decode(record.value);
      } catch (err) {
        if (err instanceof StreamError && err.retryable) throw err;
        metrics.badRecords.inc({ stage: 'aggregate' });
        return [];
      }
      const { samples, late } = agg.counts;
      const out = agg.add(batch);
      metrics.samples.inc(agg.counts.samples - samples);
      metrics.late.inc(agg.counts.late - late);
      return out.map(
        (p): LogRecord => ({
          key: Buffer.from(String(source)),
          value: encodePartial(p.value),
          partition: p.partition,
          timestamp: p.value.through,
        }),
      );
    },
    snapshot: () => agg.snapshot(),
    restore: (s) => agg.restore(s as AggregatorSnapshot),
  };
}

function combineMachine(
  options: RollupOptions,
  sources: number,
  derivedPartitions: number,
  metrics: RollupMetrics,
): StageMachine {
  const combiner = new Combiner(options.rules, sources);
  return {
    async feed(record) {
      let batches: OutputBatch[];
      try {
        const repeats = combiner.repeats;
        batches = combiner.add(decodePartial(record.value));
        metrics.repeats.inc(combiner.repeats - repeats);
      } catch (err) {
        if (!(err instanceof StreamError)) throw err;
        metrics.badRecords.inc({ stage: 'combine' });
        return [];
      }
      const out: LogRecord[] = [];
      for (const b of batches) out.push(...(await derivedRecords(options.encoder, b, derivedPartitions)));
      for (const b of batches) metrics.outputs.inc(b.samples.length);
      return out;
    },
    snapshot: () => combiner.snapshot(),
    restore: (s) => combiner.restore(s as CombinerSnapshot),
  };
}

/** One derived record per partition of the output series, keyed by its first series (log-records.md). */
async function derivedRecords(
  encoder: DerivedEncoder,
  b: OutputBatch,
  partitions: number,
): Promise<LogRecord[]> {
  const byPartition = new Map<number, DerivedSample[]>();
  for (const s of b.samples) {
    const p = partitionFor(s.labels, partitions);
    let list = byPartition.get(p);
    if (list === undefined) byPartition.set(p, (list = []));
    list.push({ labels: s.labels, t: b.t, v: s.value });
  }
  const out: LogRecord[] = [];
  for (const [partition, samples] of [...byPartition].sort((x, y) => x[0] - y[0])) {
    out.push({
      key: seriesKey(samples[0]!.labels),
      value: await encoder.encode(b.tenant, b.t, samples),
      partition,
      timestamp: b.t,
    });
  }
  return out;
}
