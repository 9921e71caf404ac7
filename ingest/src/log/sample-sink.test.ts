import type { LogProducer, LogRecord } from '@promstream/log';
import type { SeriesChunk } from '@promstream/schemas';
import type { Label } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import type { WriteSeries } from '../remote-write/types.js';
import {
  LogSampleSink,
  type SampleBatchCodec,
  type SampleBatchRecord,
  type SampleBatchValue,
} from './sample-sink.js';

class MemoryProducer implements LogProducer {
  sent: { topic: string; records: readonly LogRecord[] }[] = [];
  async send(topic: string, records: readonly LogRecord[]): Promise<void> {
    this.sent.push({ topic, records });
  }
  async partitions(): Promise<number> {
    return 4;
  }
  async close(): Promise<void> {}
}

/** A record that keeps what it was given, readable as JSON. */
class JsonRecord implements SampleBatchRecord {
  readonly samples: { labels: readonly Label[]; t: number; v: number }[] = [];
  readonly series: SeriesChunk[] = [];
  constructor(
    readonly tenant: string,
    readonly producedAt: number,
  ) {}
  get size(): number {
    return this.samples.length + this.series.length;
  }
  addSample(labels: readonly Label[], t: number, v: number): boolean {
    // Like the real builder, refuse times a column does not take.
    if (!Number.isInteger(t)) return false;
    this.samples.push({ labels, t, v });
    return true;
  }
  addChunk(chunk: SeriesChunk): void {
    this.series.push(chunk);
  }
}

type JsonBatch = Pick<SampleBatchValue, 'tenant' | 'producedAt' | 'series'> & {
  samples: { labels: Label[]; t: number; v: number }[];
};

// A codec that keeps batches readable: JSON values, the first label value as key,
// and the partition taken from the `p` label.
const codec: SampleBatchCodec = {
  encodeChunk: (ts, vs) => Buffer.from(JSON.stringify([ts, vs])),
  newRecord: (tenant, producedAt) => new JsonRecord(tenant, producedAt),
  serialize: async (_topic, record) => Buffer.from(JSON.stringify(record)),
  seriesKey: (labels) => Buffer.from(labels.map((l) => l.value).join(',')),
  partitionFor: (labels) => Number(labels.find((l) => l.name === 'p')?.value ?? 0),
};

function s(p: number, i: number): WriteSeries {
  return {
    labels: [
      { name: '__name__', value: `m${i}` },
      { name: 'p', value: String(p) },
    ],
    timestamps: [10, 20],
    values: [i, i + 1],
    histograms: [],
    exemplars: 0,
  };
}

describe('LogSampleSink', () => {
  it('groups series by partition, keys each record by its first series, splits large groups', async () => {
    const producer = new MemoryProducer();
    const sink = new LogSampleSink({
      producer,
      codec,
      topic: 'samples',
      maxSeriesPerRecord: 2,
      now: () => 42,
    });
    const result = await sink.write('t1', [s(1, 0), s(3, 1), s(1, 2), s(1, 3)]);
    expect(producer.sent).toHaveLength(1);
    const records = producer.sent[0]!.records;
    expect(result.records).toBe(3);
    expect(records.map((r) => r.partition)).toEqual([1, 1, 3]);
    expect(records.map((r) => r.key!.toString())).toEqual(['m0,1', 'm3,1', 'm1,3']);
    const batches = records.map((r) => JSON.parse(r.value!.toString()) as JsonBatch);
    expect(batches[0]!.tenant).toBe('t1');
    expect(batches[0]!.producedAt).toBe(42);
    expect(batches[0]!.series.map((x) => x.labels[0]!.value)).toEqual(['m0', 'm2']);
    expect(batches[0]!.series[1]!.minTime).toBe(10);
    expect(batches[0]!.series[1]!.maxTime).toBe(20);
    expect(batches[0]!.series[1]!.encoding).toBe('XOR');
    expect(result.bytes).toBe(records.reduce((n, r) => n + r.value!.length, 0));
  });

  it('puts one-sample series in columns and the rest in chunks', async () => {
    const producer = new MemoryProducer();
    const sink = new LogSampleSink({ producer, codec, topic: 'samples', now: () => 7 });
    const one = (i: number, t: number): WriteSeries => ({ ...s(2, i), timestamps: [t], values: [i / 10] });
    const result = await sink.write('t', [one(0, 100), s(2, 1), one(2, 100.5), one(3, 115)]);
    expect(result.records).toBe(1);
    const batch = JSON.parse(producer.sent[0]!.records[0]!.value!.toString()) as JsonBatch;
    expect(batch.samples).toEqual([
      { labels: s(2, 0).labels, t: 100, v: 0 },
      { labels: s(2, 3).labels, t: 115, v: 0.3 },
    ]);
    // The two-sample series, and the one whose time no column takes, became chunks.
    expect(batch.series.map((x) => x.labels[0]!.value)).toEqual(['m1', 'm2']);
    expect(batch.series[1]!.minTime).toBe(100.5);
  });

  it('skips series without samples and sends nothing for an empty request', async () => {
    const producer = new MemoryProducer();
    const sink = new LogSampleSink({ producer, codec, topic: 'samples' });
    const result = await sink.write('t', [{ ...s(0, 0), timestamps: [], values: [] }]);
    expect(result.records).toBe(0);
    expect(producer.sent.flatMap((x) => x.records)).toHaveLength(0);
  });

  it('marks every record as backfill when the sink is an import’s, and no record otherwise', async () => {
    const producer = new MemoryProducer();
    await new LogSampleSink({ producer, codec, topic: 'samples' }).write('t', [s(0, 0), s(1, 1)]);
    expect(producer.sent.flatMap((x) => x.records).every((r) => r.headers === undefined)).toBe(true);
    const imports = new MemoryProducer();
    await new LogSampleSink({ producer: imports, codec, topic: 'samples', backfill: 'import' }).write('t', [
      s(0, 0),
      s(1, 1),
    ]);
    const records = imports.sent.flatMap((x) => x.records);
    expect(records).toHaveLength(2);
    for (const r of records) expect(r.headers?.['promstream.backfill']?.toString()).toBe('import');
  });

  it('refuses a tenant the tenant rule refuses, and sends nothing', async () => {
    const producer = new MemoryProducer();
    const sink = new LogSampleSink({ producer, codec, topic: 'samples' });
    for (const tenant of ['.', '..', 'a/b', '']) {
      await expect(sink.write(tenant, [s(0, 0)])).rejects.toMatchObject({
        code: 'invalid_tenant',
        status: 400,
      });
    }
    expect(producer.sent).toHaveLength(0);
  });
});
