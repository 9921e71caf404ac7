import snappy from 'snappy';
import { describe, expect, it } from 'vitest';
import { bombOfSize, bombSeries, snappyBomb } from '../../test/bombs.js';
import { IngestErrorCode, isIngestError } from '../errors.js';
import { decodeRaw, uncompressBody } from './content-type.js';
import { checkDeclaredLength, checkShape } from './shape.js';
import type { WriteSeries } from './types.js';
import { encodeV1 } from './v1.js';
import { encodeV2 } from './v2.js';
import { defaultLimits } from './validate.js';

const now = 1_800_000_000_000;

function one(name: string, labels: number, samples: number): WriteSeries {
  return {
    labels: [
      { name: '__name__', value: name },
      ...Array.from({ length: labels - 1 }, (_, i) => ({
        name: `l${String(i).padStart(3, '0')}`,
        value: 'v',
      })),
    ],
    timestamps: Array.from({ length: samples }, (_, i) => now + i),
    values: Array.from({ length: samples }, () => 1),
    histograms: [],
    exemplars: 0,
  };
}

const histogram = (buckets: number): WriteSeries => ({
  labels: [{ name: '__name__', value: 'h' }],
  timestamps: [],
  values: [],
  exemplars: 0,
  histograms: [
    {
      timestamp: now,
      integer: false,
      histogram: {
        counterResetHint: 0,
        schema: 3,
        zeroThreshold: 0,
        zeroCount: 0,
        count: buckets,
        sum: 1,
        positiveSpans: [{ offset: 0, length: buckets }],
        negativeSpans: [],
        positiveBuckets: Array.from({ length: buckets }, () => 1),
        negativeBuckets: [],
        customValues: [],
      },
    },
  ],
});

function refusal(f: () => unknown, code: IngestErrorCode): string {
  try {
    f();
  } catch (e) {
    expect(isIngestError(e, code), String(e)).toBe(true);
    return (e as Error).message;
  }
  return expect.unreachable('no error');
}

describe('the declared length of a snappy body', () => {
  it('refuses a decompression bomb with 413 before decompressing it', async () => {
    // 47 MB of body that expands to 1 GB: refused from its first bytes.
    const { body } = bombOfSize(47_000_000, now);
    const message = refusal(
      () => checkDeclaredLength(body, defaultLimits.maxDecompressedBytes),
      IngestErrorCode.PayloadTooLarge,
    );
    expect(message).toMatch(
      /declares 1002666\d+ bytes once decompressed, over the limit max_decompressed_bytes of 104857600/,
    );
    await expect(uncompressBody(body, 'snappy')).rejects.toSatisfy((e) =>
      isIngestError(e, IngestErrorCode.PayloadTooLarge),
    );
  });

  it('passes a body within the limit and refuses one whose output is longer than it declared', async () => {
    const body = snappy.compressSync(Buffer.from(encodeV1([one('up', 2, 1)])));
    expect(checkDeclaredLength(body, 1000)).toBeGreaterThan(0);
    expect(() => checkDeclaredLength(body, 10)).toThrowError(/over the limit/);
    // Declares 35 bytes and expands to 3500: the decompressor refuses it.
    const liar = snappyBomb(bombSeries(now), 100, 35);
    await expect(uncompressBody(liar, 'snappy')).rejects.toSatisfy((e) =>
      isIngestError(e, IngestErrorCode.MalformedRequest),
    );
    expect(() => checkDeclaredLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 1000)).toThrowError(
      /uncompressed length is missing/,
    );
  });
});

describe('the shape of a request', () => {
  it('refuses a request of too many series after counting one more than the limit', () => {
    // 4.7 MB of bomb expand to 100 MB of 2.86 million one-sample series; 300,000 here.
    const literal = bombSeries(now);
    const raw = snappy.uncompressSync(snappyBomb(literal, 300_000), { asBuffer: true }) as Buffer;
    const message = refusal(() => decodeRaw(raw, '1.0'), IngestErrorCode.LimitExceeded);
    expect(message).toBe(
      'more than 200000 series in one request, over the limit max_series_per_request of 200000',
    );
  });

  it('counts samples, labels, histogram buckets and exemplars of both versions against their limits', () => {
    const limits = {
      ...defaultLimits,
      maxSamplesPerRequest: 5,
      maxLabelsPerSeries: 4,
      maxHistogramBucketsPerRequest: 10,
    };
    for (const [version, encode] of [
      ['1.0', encodeV1],
      ['2.0', encodeV2],
    ] as const) {
      const at = (series: WriteSeries[]) => Buffer.from(encode(series));
      expect(() => checkShape(at([one('a', 4, 3), one('b', 2, 2)]), version, limits)).not.toThrow();
      expect(
        refusal(
          () => checkShape(at([one('a', 2, 3), one('b', 2, 3)]), version, limits),
          IngestErrorCode.LimitExceeded,
        ),
      ).toMatch(/more than 5 samples .* max_samples_per_request of 5/);
      expect(
        refusal(
          () => checkShape(at([one('a', 2, 1), one('b', 5, 1)]), version, limits),
          IngestErrorCode.LimitExceeded,
        ),
      ).toBe('series 2 of the request carries 5 labels, over the limit max_labels_per_series of 4');
      expect(() => checkShape(at([histogram(10)]), version, limits)).not.toThrow();
      expect(
        refusal(() => checkShape(at([histogram(11)]), version, limits), IngestErrorCode.LimitExceeded),
      ).toMatch(/more than 10 native histogram buckets/);
    }
    // 2.0 only: the symbol table: the empty symbol, __name__, a, 7 label names and their one value.
    const many = Buffer.from(encodeV2([one('a', 8, 1)]));
    const symbols = { ...defaultLimits, maxSymbolsPerRequest: 11 };
    expect(() => checkShape(many, '2.0', symbols)).not.toThrow();
    expect(
      refusal(
        () => checkShape(many, '2.0', { ...symbols, maxSymbolsPerRequest: 10 }),
        IngestErrorCode.LimitExceeded,
      ),
    ).toMatch(/more than 10 symbols/);
  });

  it('counts integer histogram buckets by their varints', () => {
    // A hand-written 1.0 series with one histogram of 3 packed integer deltas (field 12), one of 2 bytes.
    const hist = Buffer.from([0x62, 0x04, 0x02, 0x80, 0x01, 0x02]);
    const ts = Buffer.concat([Buffer.from([0x22, hist.length]), hist]);
    const raw = Buffer.concat([Buffer.from([0x0a, ts.length]), ts]);
    const limits = { ...defaultLimits, maxHistogramBucketsPerRequest: 3 };
    expect(() => checkShape(raw, '1.0', limits)).not.toThrow();
    expect(() => checkShape(raw, '1.0', { ...limits, maxHistogramBucketsPerRequest: 2 })).toThrowError(
      /more than 2 native histogram buckets/,
    );
  });

  it('answers a body that does not parse as malformed', () => {
    expect(
      refusal(
        () => checkShape(Buffer.from([0x0a, 0xff, 0x01]), '1.0', defaultLimits),
        IngestErrorCode.MalformedRequest,
      ),
    ).toMatch(/decode prometheus.WriteRequest: length/);
  });
});
