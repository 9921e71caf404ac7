import type { LogProducer, LogRecord } from '@promstream/log';
import { BACKFILL_HEADER, type SampleBatch, type SeriesChunk } from '@promstream/schemas';
import { type Label, tenantIdProblem } from '@promstream/storage';
import { IngestError, IngestErrorCode } from '../errors.js';
import type { WriteSeries } from '../remote-write/types.js';

/**
 * Where validated series go: resolves once the log holds them all, rejects
 * with `log_unavailable` otherwise. The gateway and the agent write through it.
 */
export interface SampleBatchSink {
  write(tenant: string, series: readonly WriteSeries[]): Promise<SinkResult>;
}

/** What a write put on the log. */
export interface SinkResult {
  records: number;
  /** Serialized record value bytes, before the log's batch compression. */
  bytes: number;
}

/** The value of one `promstream.samples.v1` record (the schemas package's SampleBatch). */
export type SampleBatchValue = SampleBatch;
type SeriesChunkValue = SeriesChunk;

/**
 * One record being built: one-sample series go in by column, any other
 * series as a chunk (the schemas package's SampleBatchBuilder).
 */
export interface SampleBatchRecord {
  /** Series added so far. */
  readonly size: number;
  /** Adds a one-sample series by column; false when it cannot (the caller then adds a chunk). */
  addSample(labels: readonly Label[], t: number, v: number): boolean;
  addChunk(chunk: SeriesChunkValue): void;
}

/** The pieces the sink needs from the schema and storage packages, injected so each can be tested alone. */
export interface SampleBatchCodec {
  /** The XOR chunk of a series' float samples. */
  encodeChunk(timestamps: readonly number[], values: readonly number[]): Uint8Array;
  /** A new, empty record of a tenant. */
  newRecord(tenant: string, producedAt: number): SampleBatchRecord;
  /** The record value in the Confluent wire format. */
  serialize(topic: string, record: SampleBatchRecord): Promise<Buffer>;
  /** The record key of a series (its hash). */
  seriesKey(labels: readonly Label[]): Buffer;
  /** The partition a series belongs on. */
  partitionFor(labels: readonly Label[], partitions: number): number;
  /**
   * Optionally, a placer for the series of one request: the same partitions
   * as `partitionFor`, cheaper when label objects repeat.
   */
  requestPlacer?(partitions: number): (labels: readonly Label[]) => number;
}

/** Options of the log sink. */
export interface LogSampleSinkOptions {
  producer: LogProducer;
  codec: SampleBatchCodec;
  topic: string;
  /** Series per record at most, so a record stays well under the log's message size limit. */
  maxSeriesPerRecord?: number;
  now?: () => number;
  /**
   * Marks every record as backfill, naming the tool (`import`): old data
   * carried onto the log on purpose, which the block builder places by its
   * backfill rules. The gateway and the agent never set it.
   */
  backfill?: string;
}

/**
 * A SampleBatchSink writing `promstream.samples.v1`. Series are grouped by
 * the partition their hash places them on; each group becomes one or more
 * SampleBatch records keyed by the hash of their first series and sent to
 * that partition explicitly, so one series always lands on one partition.
 * Series with one float sample (what a remote-write shard sends) go into the
 * record's columns; others become TSZ chunks.
 */
export class LogSampleSink implements SampleBatchSink {
  private readonly options: LogSampleSinkOptions;
  private readonly maxSeries: number;
  private readonly now: () => number;
  private readonly headers: Record<string, Buffer> | undefined;

  constructor(options: LogSampleSinkOptions) {
    this.options = options;
    this.maxSeries = options.maxSeriesPerRecord ?? 2000;
    this.now = options.now ?? Date.now;
    this.headers =
      options.backfill === undefined ? undefined : { [BACKFILL_HEADER]: Buffer.from(options.backfill) };
  }

  write(tenant: string, series: readonly WriteSeries[]): Promise<SinkResult> {
    // Every writer checks its tenant first; this keeps a caller that did not from reaching the log.
    const problem = tenantIdProblem(tenant);
    if (problem !== undefined) return Promise.reject(new IngestError(IngestErrorCode.InvalidTenant, problem));
    const { producer, topic } = this.options;
    // Only the built records are kept once the partition count is known:
    // nothing of the decoded request stays reachable while the log is awaited.
    return producer.partitions(topic).then((partitions) => this.send(this.build(tenant, series, partitions)));
  }

  private async send(built: BuiltRecord[]): Promise<SinkResult> {
    const { codec, producer, topic } = this.options;
    const records: LogRecord[] = new Array(built.length);
    let bytes = 0;
    for (let i = 0; i < built.length; i++) {
      const { partition, key, record } = built[i]!;
      const value = await codec.serialize(topic, record);
      bytes += value.length;
      records[i] =
        this.headers === undefined
          ? { key, value, partition }
          : { key, value, partition, headers: this.headers };
    }
    built.length = 0;
    await producer.send(topic, records);
    return { records: records.length, bytes };
  }

  /**
   * Sorts series into records by partition, synchronously, so nothing of the
   * decoded request is held while the write waits for the log.
   */
  private build(tenant: string, series: readonly WriteSeries[], partitions: number): BuiltRecord[] {
    const codec = this.options.codec;
    const producedAt = this.now();
    const open: (SampleBatchRecord | undefined)[] = new Array(partitions);
    const openKeys: Buffer[] = new Array(partitions);
    const built: BuiltRecord[] = [];
    const place = codec.requestPlacer?.(partitions);
    for (const s of series) {
      const floats = s.values.length;
      const histograms = s.histograms.length;
      if (floats === 0 && histograms === 0) continue;
      const p = place === undefined ? codec.partitionFor(s.labels, partitions) : place(s.labels);
      let record = open[p];
      if (record === undefined || record.size >= this.maxSeries) {
        if (record !== undefined) built.push({ partition: p, key: openKeys[p]!, record });
        record = codec.newRecord(tenant, producedAt);
        open[p] = record;
        openKeys[p] = codec.seriesKey(s.labels);
      }
      const columnar =
        floats === 1 && histograms === 0 && record.addSample(s.labels, s.timestamps[0]!, s.values[0]!);
      if (!columnar) record.addChunk(toChunk(s, codec));
    }
    for (let p = 0; p < partitions; p++) {
      const record = open[p];
      if (record !== undefined) built.push({ partition: p, key: openKeys[p]!, record });
    }
    return built;
  }
}

interface BuiltRecord {
  partition: number;
  key: Buffer;
  record: SampleBatchRecord;
}

function toChunk(s: WriteSeries, codec: SampleBatchCodec): SeriesChunkValue {
  let minTime = Number.POSITIVE_INFINITY;
  let maxTime = Number.NEGATIVE_INFINITY;
  for (const t of s.timestamps) {
    if (t < minTime) minTime = t;
    if (t > maxTime) maxTime = t;
  }
  for (const h of s.histograms) {
    if (h.timestamp < minTime) minTime = h.timestamp;
    if (h.timestamp > maxTime) maxTime = h.timestamp;
  }
  const floats = s.values.length > 0;
  return {
    labels: s.labels,
    minTime,
    maxTime,
    encoding: floats ? 'XOR' : s.histograms.every((h) => h.integer) ? 'HISTOGRAM' : 'FLOAT_HISTOGRAM',
    chunk: floats ? Buffer.from(codec.encodeChunk(s.timestamps, s.values)) : EMPTY,
    histograms: s.histograms,
  };
}

const EMPTY = Buffer.alloc(0);
