import { MockClient } from '@confluentinc/schemaregistry';
import { decodeXorChunk, encodeXorChunk, type Label, STALE_NAN } from '@promstream/storage';
import { seededRandom } from '@promstream/testkit';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { sampleBatch } from '../test/fixtures.js';
import { avroType, schemaJson } from './avro-schemas.js';
import { SchemaError, SchemaErrorCode } from './errors.js';
import { decimalScale, expandColumns, SampleBatchBuilder } from './sample-columns.js';
import { RecordSerde } from './serde.js';
import type { SampleBatch, SeriesChunk } from './types.js';

const HEADER = Buffer.from([0, 0, 0, 0, 7]);

const SPECIAL_VALUES = [
  0,
  -0,
  1,
  -1,
  0.1,
  84.1,
  -12.25,
  1e-9,
  123456.789,
  2 ** 52 - 1,
  2 ** 52,
  -(2 ** 53),
  1e300,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  STALE_NAN,
  Math.PI,
  1 / 3,
];

function bits(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b.toString('hex');
}

interface Sample {
  labels: Label[];
  t: number;
  v: number;
}

function randomSamples(seed: number, n: number): Sample[] {
  const r = seededRandom(seed);
  const base = 1_764_000_000_000 + Math.floor(r() * 1e6);
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const labels: Label[] = [{ name: '__name__', value: `metric_${Math.floor(r() * 20)}` }];
    const extra = Math.floor(r() * 4);
    for (let j = 0; j < extra; j++) {
      const long = r() < 0.1;
      labels.push({
        name: `l${j}`,
        value: long ? 'x'.repeat(70 + j) : r() < 0.1 ? `ü-${j}-\u{1f600}` : `v${Math.floor(r() * 5)}`,
      });
    }
    const pick = r();
    const v =
      pick < 0.3
        ? SPECIAL_VALUES[Math.floor(r() * SPECIAL_VALUES.length)]!
        : pick < 0.6
          ? Math.round((r() - 0.5) * 1e6) / 10 ** Math.floor(r() * 4)
          : pick < 0.8
            ? Math.floor(r() * 2 ** 40)
            : new Float64Array(
                new Uint32Array([Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]).buffer,
              )[0]!;
    const t = r() < 0.8 ? base : base + Math.floor((r() - 0.5) * 1e9);
    out.push({ labels, t, v });
  }
  return out;
}

function build(samples: readonly Sample[], chunks: readonly SeriesChunk[] = []): SampleBatchBuilder {
  const b = new SampleBatchBuilder('tenant-ü', 1_764_000_000_123);
  for (const s of samples) expect(b.addSample(s.labels, s.t, s.v)).toBe(true);
  for (const c of chunks) b.addChunk(c);
  return b;
}

describe('decimalScale', () => {
  it('finds the shortest exact decimal and refuses what has none', () => {
    expect(decimalScale(0)).toBe(0);
    expect(decimalScale(42)).toBe(0);
    expect(decimalScale(84.1)).toBe(1);
    expect(decimalScale(-12.25)).toBe(2);
    expect(decimalScale(1e-9)).toBe(9);
    for (const v of [-0, Number.NaN, STALE_NAN, Number.POSITIVE_INFINITY, Math.PI, 1 / 3, 1e300, 2 ** 52]) {
      expect(decimalScale(v)).toBe(-1);
    }
  });
});

describe('SampleBatchBuilder', () => {
  const type = avroType('sampleBatch');

  it('writes the bytes avsc writes for the same value', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const b = build(randomSamples(seed, 1 + (seed % 7) * 40), seed % 3 === 0 ? sampleBatch.series : []);
      const bytes = b.encode(HEADER, type);
      expect(bytes.subarray(0, 5)).toEqual(HEADER);
      const decoded = type.fromBuffer(bytes.subarray(5)) as SampleBatch;
      expect(type.toBuffer(decoded)).toEqual(bytes.subarray(5));
    }
  });

  it('gives every sample back bit for bit, labels in order, chunk series first', () => {
    for (let seed = 100; seed < 130; seed++) {
      const samples = randomSamples(seed, 300);
      const chunks = seed % 2 === 0 ? sampleBatch.series : [];
      const decoded = type.fromBuffer(build(samples, chunks).encode(HEADER, type).subarray(5)) as SampleBatch;
      const batch = expandColumns(decoded);
      expect(batch.columns).toBeUndefined();
      expect(batch.tenant).toBe('tenant-ü');
      expect(batch.producedAt).toBe(1_764_000_000_123);
      expect(batch.series).toHaveLength(chunks.length + samples.length);
      expect(batch.series.slice(0, chunks.length)).toEqual(chunks);
      batch.series.slice(chunks.length).forEach((s, i) => {
        const want = samples[i]!;
        expect(s.labels).toEqual(want.labels);
        expect(s.minTime).toBe(want.t);
        expect(s.maxTime).toBe(want.t);
        expect(s.encoding).toBe('XOR');
        expect(s.histograms).toEqual([]);
        // The chunk is the one a version-1 writer would have written for the sample.
        expect(Buffer.from(s.chunk)).toEqual(Buffer.from(encodeXorChunk([want.t], [want.v])));
        const { ts, vs } = decodeXorChunk(s.chunk);
        expect([...ts]).toEqual([want.t]);
        if (!Number.isNaN(want.v)) expect(bits(vs[0]!)).toBe(bits(want.v));
      });
    }
  });

  it('leaves times no column takes to the chunk path', () => {
    const b = new SampleBatchBuilder('t', 0);
    expect(b.addSample([], 1.5, 1)).toBe(false);
    expect(b.addSample([], 2 ** 52, 1)).toBe(false);
    expect(b.addSample([], 10, 1)).toBe(true);
    expect(b.addSample([], 10 - 2 ** 52, 1)).toBe(false);
    expect(b.size).toBe(1);
  });

  it('writes pinned bytes for a small batch', () => {
    // A change here is a change of the record format: update docs/log-records.md and think about old readers.
    const b = new SampleBatchBuilder('a', 1000);
    b.addSample(
      [
        { name: '__name__', value: 'up' },
        { name: 'job', value: 'node' },
      ],
      1_764_000_000_000,
      1,
    );
    b.addSample([{ name: '__name__', value: 'load' }], 1_764_000_000_015, 0.25);
    b.addSample([{ name: '__name__', value: 'up' }], 1_764_000_000_000, Number.NaN);
    expect(b.encode(HEADER, type).toString('hex')).toBe(PINNED_HEX);
  });

  it('refuses a schema without columns and chunk series the schema does not take', () => {
    const v1 = avroTypeWithoutColumns();
    expect(() => build([{ labels: [], t: 1, v: 1 }]).encode(HEADER, v1)).toThrow(SchemaError);
    const bad = { ...sampleBatch.series[0]!, minTime: 1.5 };
    try {
      build([], [bad]).encode(HEADER, type);
      expect.unreachable();
    } catch (err) {
      expect((err as SchemaError).code).toBe(SchemaErrorCode.InvalidRecord);
      expect((err as SchemaError).message).toContain('minTime');
    }
  });
});

describe('expandColumns', () => {
  const type = avroType('sampleBatch');
  const decodedOf = (): SampleBatch =>
    type.fromBuffer(build(randomSamples(7, 20)).encode(HEADER, type).subarray(5)) as SampleBatch;

  it('refuses columns that do not add up', () => {
    const cases: ((b: SampleBatch) => void)[] = [
      (b) => b.columns!.timeDeltas.pop(),
      (b) => b.columns!.valueScales.push(0),
      (b) => b.columns!.labelNames.push(0),
      (b) => b.columns!.labelNames.pop(),
      (b) => b.columns!.labelValues[0]!.push(0),
      (b) => {
        b.columns!.labelValues[0]![0] = b.columns!.symbols.length;
      },
      (b) => {
        b.columns!.valueScales[0] = 42;
      },
      (b) => b.columns!.rawValues.push(1),
      (b) => b.columns!.mantissas.push(1),
      (b) => {
        b.columns!.labelCounts[0] = 99;
      },
    ];
    for (const corrupt of cases) {
      const b = decodedOf();
      corrupt(b);
      try {
        expandColumns(b);
        expect.unreachable(`accepted ${corrupt.toString()}`);
      } catch (err) {
        expect((err as SchemaError).code).toBe(SchemaErrorCode.BadWireFormat);
      }
    }
  });
});

/** The SampleBatch schema as it was before the columns (version 1). */
function schemaV1(): string {
  const s = JSON.parse(schemaJson('sampleBatch')) as { fields: { name: string }[] };
  s.fields = s.fields.filter((f) => f.name !== 'columns');
  return JSON.stringify(s);
}

function avroTypeWithoutColumns(): avro.Type {
  return avro.Type.forSchema(JSON.parse(schemaV1()) as avro.Schema);
}

describe('RecordSerde of SampleBatch', () => {
  it('reads records of version 1 and version 2 into plain series', async () => {
    const client = new MockClient({ baseURLs: ['mock://columns'] });
    const topic = 'columns-test';
    const oldWriter = new RecordSerde<SampleBatch>(client, schemaV1());
    const oldBytes = await oldWriter.serialize(topic, sampleBatch);
    const serde = new RecordSerde<SampleBatch>(client, schemaJson('sampleBatch'));
    expect(await serde.deserialize(topic, oldBytes)).toEqual(sampleBatch);

    const samples = randomSamples(3, 50);
    const newBytes = await serde.serializeBuilder(topic, build(samples, sampleBatch.series));
    expect(newBytes.readUInt32BE(1)).not.toBe(oldBytes.readUInt32BE(1));
    const back = await serde.deserialize(topic, newBytes);
    expect(back.series.slice(0, 2)).toEqual(sampleBatch.series);
    expect(back.series.slice(2).map((s) => s.labels)).toEqual(samples.map((s) => s.labels));
    // Plain values still serialize as before, with no columns.
    expect(await serde.deserialize(topic, await serde.serialize(topic, sampleBatch))).toEqual(sampleBatch);
  });

  it('refuses a record whose columns do not add up with SCHEMA_BAD_WIRE_FORMAT', async () => {
    const client = new MockClient({ baseURLs: ['mock://columns-bad'] });
    const serde = new RecordSerde<SampleBatch>(client, schemaJson('sampleBatch'));
    const type = serde.type;
    const bytes = await serde.serializeBuilder('t', build(randomSamples(9, 5)));
    const decoded = type.fromBuffer(bytes.subarray(5)) as SampleBatch;
    decoded.columns!.timeDeltas.push(1);
    const corrupt = Buffer.concat([bytes.subarray(0, 5), type.toBuffer(decoded)]);
    await expect(serde.deserialize('t', corrupt)).rejects.toMatchObject({
      code: SchemaErrorCode.BadWireFormat,
    });
  });
});

const PINNED_HEX =
  '00000000070261d00f00020a105f5f6e616d655f5f047570066a6f62086e6f6465086c6f61640006040202000800040000000406020802000206000080a0bfe9d66606001e000006000401000402320002000000000000f87f00';
