import { seededRandom } from '@promstream/testkit';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { isIngestError } from '../errors.js';
import type { WriteSeries } from './types.js';
import { decodeV1, decodeV1Reference, encodeV1 } from './v1.js';

const alphabet = [
  'a',
  'z',
  '_',
  '0',
  '9',
  ':',
  '-',
  '.',
  ' ',
  'é',
  'ß',
  '日',
  '本',
  '😀',
  '\u0000',
  '\u007f',
];

function randomString(r: () => number, maxLen: number): string {
  const n = Math.floor(r() * (maxLen + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)]!;
  return s;
}

function randomValue(r: () => number): number {
  const k = r();
  if (k < 0.05) return Number.NaN;
  if (k < 0.1) return k < 0.075 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  if (k < 0.2) return Math.floor(r() * 1000);
  if (k < 0.25) return -0;
  return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
}

function randomTimestamp(r: () => number): number {
  const k = r();
  if (k < 0.1) return 0;
  if (k < 0.2) return -Math.floor(r() * 2 ** 53);
  if (k < 0.3) return Math.floor(r() * 2 ** 53);
  return 1_700_000_000_000 + Math.floor(r() * 1e9);
}

function randomSeries(r: () => number): WriteSeries {
  const labels = Array.from({ length: Math.floor(r() * 6) }, () => ({
    name: randomString(r, 12),
    value: randomString(r, r() < 0.1 ? 60 : 20),
  }));
  const n = Math.floor(r() * 4);
  const timestamps = Array.from({ length: n }, () => randomTimestamp(r));
  const values = Array.from({ length: n }, () => randomValue(r));
  const histograms =
    r() < 0.2
      ? [
          {
            timestamp: randomTimestamp(r),
            integer: false,
            histogram: {
              counterResetHint: 0,
              schema: Math.floor(r() * 8) - 4,
              zeroThreshold: 1e-128,
              zeroCount: Math.floor(r() * 5),
              count: 10,
              sum: r() * 100,
              positiveSpans: [{ offset: 0, length: 2 }],
              negativeSpans: [],
              positiveBuckets: [3, 4],
              negativeBuckets: [],
              customValues: [],
            },
          },
        ]
      : [];
  return { labels, timestamps, values, histograms, exemplars: 0 };
}

describe('hand-written remote write 1.0 decoder', () => {
  it('gives the same result as protobufjs on random requests', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = seededRandom(seed);
      const series = Array.from({ length: Math.floor(r() * 20) }, () => randomSeries(r));
      let body: Uint8Array;
      try {
        body = encodeV1(series);
      } catch {
        continue; // a histogram shape the encoder refuses is not this test's concern
      }
      const want = decodeV1Reference(body);
      const got = decodeV1(body);
      expect(got, `seed ${seed}`).toEqual(want);
      expect(got.samples).toBe(series.reduce((a, s) => a + s.values.length, 0));
    }
  });

  it('gives the same result on requests whose series share labels (the label and string tables)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = seededRandom(1000 + seed);
      // A small pool of labels drawn again and again, and far more distinct strings than table slots
      // in some requests, so both hits and colliding replacements happen.
      const pool = Array.from({ length: seed % 2 === 0 ? 30 : 20_000 }, () => ({
        name: randomString(r, 12),
        value: randomString(r, r() < 0.1 ? 80 : 20),
      }));
      const series: WriteSeries[] = Array.from({ length: 500 }, () => ({
        labels: Array.from({ length: 1 + Math.floor(r() * 5) }, () => ({
          ...pool[Math.floor(r() * pool.length)]!,
        })),
        timestamps: [1_700_000_000_000],
        values: [randomValue(r)],
        histograms: [],
        exemplars: 0,
      }));
      const body = encodeV1(series);
      expect(decodeV1(body), `seed ${seed}`).toEqual(decodeV1Reference(body));
    }
  });

  it('shares no label between requests, whatever a request before it held or where it failed', () => {
    const r = seededRandom(77);
    const pool = Array.from({ length: 40 }, () => ({
      name: randomString(r, 10),
      value: randomString(r, 16),
    }));
    const request = (): Uint8Array =>
      encodeV1(
        Array.from({ length: 300 }, () => ({
          labels: Array.from({ length: 1 + Math.floor(r() * 4) }, () => ({
            ...pool[Math.floor(r() * pool.length)]!,
          })),
          timestamps: [1_700_000_000_000],
          values: [randomValue(r)],
          histograms: [],
          exemplars: 0,
        })),
      );
    let previous = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      // The same label bytes at other offsets of another body; every third request first
      // fails half way, leaving its labels in the table's slots.
      const body = request();
      if (i % 3 === 0) expect(() => decodeV1(body.subarray(0, body.length >> 1))).toThrowError();
      const got = decodeV1(body);
      expect(got, `request ${i}`).toEqual(decodeV1Reference(body));
      const labels = new Set<unknown>(got.series.flatMap((s) => s.labels));
      for (const l of labels) expect(previous.has(l)).toBe(false);
      previous = labels;
    }
  });

  it('counts exemplars and skips metadata and unknown fields as protobufjs does', () => {
    const root = protobuf.parse(
      `syntax = "proto3";
       message L { string name = 1; string value = 2; }
       message S { double value = 1; int64 timestamp = 2; fixed32 extra = 9; }
       message E { repeated L labels = 1; double value = 2; int64 timestamp = 3; }
       message T { repeated L labels = 1; repeated S samples = 2; repeated E exemplars = 3; sint64 unknown = 7; }
       message M { int32 type = 1; string metric_family_name = 2; string help = 4; }
       message W { repeated T timeseries = 1; repeated M metadata = 3; string unknown = 15; }`,
    ).root;
    const W = root.lookupType('W');
    const body = W.encode(
      W.fromObject({
        timeseries: [
          {
            labels: [{ name: '__name__', value: 'up' }],
            samples: [
              { value: 1.5, timestamp: -5, extra: 7 },
              { value: 2, timestamp: 2 ** 52 },
            ],
            exemplars: [{ labels: [{ name: 'trace_id', value: 'x' }], value: 1, timestamp: 3 }, {}],
            unknown: -3,
          },
        ],
        metadata: [{ type: 1, metric_family_name: 'up', help: 'help text' }],
        unknown: 'ignored',
      }),
    ).finish();
    const got = decodeV1(body);
    expect(got).toEqual(decodeV1Reference(body));
    expect(got.exemplars).toBe(2);
    expect(got.series[0]!.timestamps).toEqual([-5, 2 ** 52]);
    expect(got.series[0]!.values).toEqual([1.5, 2]);
  });

  it('answers truncated and corrupted bodies with a MalformedRequest error, never another exception', () => {
    const r = seededRandom(99);
    const body = encodeV1(Array.from({ length: 10 }, () => randomSeries(r)));
    let rejected = 0;
    for (let cut = 1; cut < body.length; cut += 3) {
      const truncated = body.subarray(0, cut);
      try {
        decodeV1(truncated);
      } catch (err) {
        expect(isIngestError(err), String(err)).toBe(true);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
    for (let i = 0; i < 200; i++) {
      const bad = Uint8Array.from(body);
      bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
      try {
        decodeV1(bad);
      } catch (err) {
        expect(isIngestError(err), String(err)).toBe(true);
      }
    }
  });
});
