import type { SampleBatch, SeriesChunk } from '@promstream/schemas';
import type { Label } from '@promstream/storage';
import type { WriteSeries } from '../remote-write/types.js';
import type { LogProducer, LogRecord } from './producer.js';

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

/** The pieces the sink needs from the schema and storage packages, injected so each can be tested alone. */
export interface SampleBatchCodec {
  /** The XOR chunk of a series' float samples. */
  encodeChunk(timestamps: readonly number[], values: readonly number[]): Uint8Array;
  /** The record value in the Confluent wire format. */
  serialize(topic: string, batch: SampleBatchValue): Promise<Buffer>;
  /** The record key of a series (its hash). */
  seriesKey(labels: readonly Label[]): Buffer;
  /** The partition a series belongs on. */
  partitionFor(labels: readonly Label[], partitions: number): number;
}

/** Options of the log sink. */
export interface LogSampleSinkOptions {
  producer: LogProducer;
  codec: SampleBatchCodec;
  topic: string;
  /** Series per record at most, so a record stays well under the log's message size limit. */
  maxSeriesPerRecord?: number;
  now?: () => number;
}

/**
 * A SampleBatchSink writing `promstream.samples.v1`. Series are grouped by
 * the partition their hash places them on; each group becomes one or more
 * SampleBatch records keyed by the hash of their first series and sent to
 * that partition explicitly, so one series always lands on one partition.
 */
export class LogSampleSink implements SampleBatchSink {
  private readonly options: LogSampleSinkOptions;
  private readonly maxSeries: number;
  private readonly now: () => number;

  constructor(options: LogSampleSinkOptions) {
    this.options = options;
    this.maxSeries = options.maxSeriesPerRecord ?? 2000;
    this.now = options.now ?? Date.now;
  }

  async write(tenant: string, series: readonly WriteSeries[]): Promise<SinkResult> {
    const { codec, producer, topic } = this.options;
    const partitions = await producer.partitions(topic);
    const groups = new Map<number, SeriesChunkValue[]>();
    const keys = new Map<number, Buffer>();
    for (const s of series) {
      if (s.values.length === 0 && s.histograms.length === 0) continue;
      const p = codec.partitionFor(s.labels, partitions);
      let group = groups.get(p);
      if (group === undefined) {
        group = [];
        groups.set(p, group);
        keys.set(p, codec.seriesKey(s.labels));
      }
      group.push(toChunk(s, codec));
    }
    const producedAt = this.now();
    const records: LogRecord[] = [];
    let bytes = 0;
    for (const [partition, group] of groups) {
      for (let i = 0; i < group.length; i += this.maxSeries) {
        const slice = group.slice(i, i + this.maxSeries);
        const value = await codec.serialize(topic, { tenant, producedAt, series: slice });
        bytes += value.length;
        records.push({
          key: i === 0 ? keys.get(partition)! : codec.seriesKey(slice[0]!.labels),
          value,
          partition,
        });
      }
    }
    await producer.send(topic, records);
    return { records: records.length, bytes };
  }
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
