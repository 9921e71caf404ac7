import snappy from 'snappy';
import { describe, expect, it } from 'vitest';
import { IngestErrorCode, isIngestError } from '../errors.js';
import { decodeBody, decodeRaw, uncompressBody, wireVersion } from './content-type.js';
import type { WriteSeries } from './types.js';
import { decodeV1, encodeV1 } from './v1.js';
import { decodeV2, encodeV2 } from './v2.js';
import { defaultLimits, validateRequest } from './validate.js';

function series(name: string, extra: Record<string, string>, samples: [number, number][]): WriteSeries {
  const labels = [
    { name: '__name__', value: name },
    ...Object.entries(extra).map(([n, v]) => ({ name: n, value: v })),
  ];
  labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    labels,
    timestamps: samples.map((s) => s[0]),
    values: samples.map((s) => s[1]),
    histograms: [],
    exemplars: 0,
  };
}

const histogramSeries: WriteSeries = {
  labels: [{ name: '__name__', value: 'rpc_latency' }],
  timestamps: [],
  values: [],
  exemplars: 0,
  histograms: [
    {
      timestamp: 1_700_000_000_000,
      integer: false,
      histogram: {
        counterResetHint: 0,
        schema: 3,
        zeroThreshold: 1e-128,
        zeroCount: 2,
        count: 10,
        sum: 12.5,
        positiveSpans: [{ offset: 1, length: 2 }],
        negativeSpans: [],
        positiveBuckets: [3, 5],
        negativeBuckets: [],
        customValues: [],
      },
    },
  ],
};

const sample: WriteSeries[] = [
  series('up', { job: 'node', instance: 'a:9100' }, [
    [1_700_000_000_000, 1],
    [1_700_000_015_000, 0],
  ]),
  // A stale marker and a large timestamp must survive both versions bit for bit.
  series('node_load1', { instance: 'b' }, [
    [1_700_000_000_123, Number.NaN],
    [2 ** 50, -0.5],
  ]),
  histogramSeries,
];

describe('remote write 1.0', () => {
  it('round-trips series, samples and histograms', () => {
    const got = decodeV1(encodeV1(sample));
    expect(got.samples).toBe(4);
    expect(got.histograms).toBe(1);
    expect(got.series.map((s) => s.labels)).toEqual(sample.map((s) => s.labels));
    expect(got.series[0]!.timestamps).toEqual([1_700_000_000_000, 1_700_000_015_000]);
    expect(got.series[1]!.timestamps[1]).toBe(2 ** 50);
    expect(Number.isNaN(got.series[1]!.values[0])).toBe(true);
    expect(got.series[2]!.histograms[0]!.histogram).toEqual(histogramSeries.histograms[0]!.histogram);
  });

  it('decodes integer histograms from deltas into absolute counts', () => {
    // Field 4 (histograms) of a TimeSeries holding count_int=6, schema=0,
    // positive span {0,3}, positive_deltas [1, 2, -1] -> counts [1, 3, 2].
    const h = Buffer.from([
      0x08,
      0x06, // count_int = 6
      0x5a,
      0x04,
      0x08,
      0x00,
      0x10,
      0x03, // positive_spans {offset 0, length 3}
      0x62,
      0x03,
      0x02,
      0x04,
      0x01, // positive_deltas packed sint64: 1, 2, -1
      0x78,
      0x0a, // timestamp = 10
    ]);
    const label = Buffer.from([0x0a, 0x08, 0x5f, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x5f, 0x5f, 0x12, 0x01, 0x68]);
    const ts = Buffer.concat([Buffer.from([0x0a, label.length]), label, Buffer.from([0x22, h.length]), h]);
    const req = Buffer.concat([Buffer.from([0x0a, ts.length]), ts]);
    const got = decodeV1(req);
    const hist = got.series[0]!.histograms[0]!;
    expect(got.series[0]!.labels).toEqual([{ name: '__name__', value: 'h' }]);
    expect(hist.integer).toBe(true);
    expect(hist.timestamp).toBe(10);
    expect(hist.histogram.count).toBe(6);
    expect(hist.histogram.positiveBuckets).toEqual([1, 3, 2]);
  });

  it('refuses bytes that are not a WriteRequest', () => {
    expect(() => decodeV1(Buffer.from([0x0a, 0xff, 0x01]))).toThrowError(/decode prometheus.WriteRequest/);
  });
});

describe('remote write 2.0', () => {
  it('round-trips through the symbol table', () => {
    const got = decodeV2(encodeV2(sample));
    expect(got.series.map((s) => s.labels)).toEqual(sample.map((s) => s.labels));
    expect(got.series[0]!.values).toEqual([1, 0]);
    expect(got.histograms).toBe(1);
  });

  it('refuses a label reference outside the symbol table', () => {
    // symbols [""] and one series with labels_refs [0, 7].
    const req = Buffer.from([0x22, 0x00, 0x2a, 0x04, 0x0a, 0x02, 0x00, 0x07]);
    expect(() => decodeV2(req)).toThrowError(/outside the symbol table/);
  });

  it('refuses a symbol table that does not start with the empty string', () => {
    const req = Buffer.from([0x22, 0x01, 0x61]);
    expect(() => decodeV2(req)).toThrowError(/first symbol must be the empty string/);
  });
});

describe('content negotiation', () => {
  it('reads the version from the proto parameter', () => {
    expect(wireVersion('application/x-protobuf')).toBe('1.0');
    expect(wireVersion(undefined)).toBe('1.0');
    expect(wireVersion('application/x-protobuf;proto=prometheus.WriteRequest')).toBe('1.0');
    expect(wireVersion('application/x-protobuf; proto=io.prometheus.write.v2.Request')).toBe('2.0');
  });

  it('refuses other media types and messages with unsupported_media_type', () => {
    for (const ct of ['application/json', 'application/x-protobuf;proto=foo.Bar']) {
      try {
        wireVersion(ct);
        expect.unreachable();
      } catch (e) {
        expect(isIngestError(e, IngestErrorCode.UnsupportedMediaType)).toBe(true);
      }
    }
  });

  it('decompresses snappy and refuses gzip and corrupt bodies', () => {
    const body = snappy.compressSync(Buffer.from(encodeV1(sample)));
    expect(decodeBody(body, '1.0', 'snappy').samples).toBe(4);
    expect(() => decodeBody(body, '1.0', 'gzip')).toThrowError(/content encoding/);
    expect(() => decodeBody(Buffer.from('not snappy at all'), '1.0', 'snappy')).toThrowError(/snappy/);
  });

  it('decompresses on the thread pool with the same answers as the synchronous path', async () => {
    const raw = Buffer.from(encodeV1(sample));
    const body = snappy.compressSync(raw);
    const out = await uncompressBody(body, undefined);
    expect(out.equals(raw)).toBe(true);
    expect(decodeRaw(out, '1.0')).toEqual(decodeBody(body, '1.0', 'snappy'));
    await expect(uncompressBody(body, 'gzip')).rejects.toThrowError(/content encoding/);
    const corrupt = uncompressBody(Buffer.from('not snappy at all'), 'snappy');
    await expect(corrupt).rejects.toSatisfy((e) => isIngestError(e, IngestErrorCode.MalformedRequest));
    await expect(corrupt).rejects.toThrowError(/snappy/);
  });
});

describe('validation', () => {
  const ok = series('up', { job: 'x' }, [[1, 1]]);
  const cases: [string, WriteSeries, RegExp][] = [
    ['missing name', { ...ok, labels: [{ name: 'job', value: 'x' }] }, /no metric name/],
    ['bad metric name', series('1up', {}, [[1, 1]]), /invalid metric name/],
    ['bad label name', series('up', { 'a-b': 'x' }, [[1, 1]]), /invalid label name/],
    [
      'unsorted',
      {
        ...ok,
        labels: [
          { name: 'job', value: 'x' },
          { name: '__name__', value: 'up' },
        ],
      },
      /not sorted/,
    ],
    ['duplicate', { ...ok, labels: [...ok.labels, { name: 'job', value: 'y' }] }, /duplicate label name/],
    [
      'empty value',
      {
        ...ok,
        labels: [
          { name: '__name__', value: 'up' },
          { name: 'job', value: '' },
        ],
      },
      /empty value/,
    ],
    [
      'out of order',
      series('up', {}, [
        [2, 1],
        [1, 1],
      ]),
      /out of order/,
    ],
    ['too long', series('up', { job: 'x'.repeat(3000) }, [[1, 1]]), /longer than 2048/],
    ['bad utf-8', series('up', { job: '\ud800' }, [[1, 1]]), /not valid UTF-8/],
  ];
  for (const [name, s, reason] of cases) {
    it(`refuses ${name} with the reason`, () => {
      expect(() => validateRequest({ series: [s], samples: 1, histograms: 0, exemplars: 0 })).toThrowError(
        reason,
      );
    });
  }

  it('checks every series even when an earlier one had the same names', () => {
    const bad = series('up', { 'a-b': 'x' }, [[1, 1]]);
    expect(() =>
      validateRequest({ series: [ok, ok, bad], samples: 3, histograms: 0, exemplars: 0 }),
    ).toThrowError(/invalid label name "a-b"/);
  });

  it('still checks order, duplicates and new labels beside label objects shared by neighbouring series', () => {
    const name = { name: '__name__', value: 'up' };
    const job = { name: 'job', value: 'x' };
    const one = (labels: { name: string; value: string }[]): WriteSeries => ({
      labels,
      timestamps: [1],
      values: [1],
      histograms: [],
      exemplars: 0,
    });
    const request = (...s: WriteSeries[]) => ({ series: s, samples: s.length, histograms: 0, exemplars: 0 });
    expect(() => validateRequest(request(one([name, job]), one([name, job])))).not.toThrow();
    expect(() =>
      validateRequest(request(one([name, job]), one([name, job, { name: 'k', value: '' }]))),
    ).toThrowError(/label k has an empty value/);
    expect(() => validateRequest(request(one([name, job]), one([job, name])))).toThrowError(/not sorted/);
    expect(() => validateRequest(request(one([name, job]), one([name, job, job])))).toThrowError(/duplicate/);
    expect(() => validateRequest(request(one([name, job]), one([job])))).toThrowError(/no metric name/);
  });

  it('accepts a valid request', () => {
    expect(() => validateRequest({ series: sample, samples: 4, histograms: 1, exemplars: 0 })).not.toThrow();
  });

  it('limits labels per series and samples per request', () => {
    const many = series('up', Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`l${i}`, 'v'])), [
      [1, 1],
    ]);
    expect(() => validateRequest({ series: [many], samples: 1, histograms: 0, exemplars: 0 })).toThrowError(
      /41 labels exceed the limit of 30/,
    );
    const limits = { ...defaultLimits, maxSamplesPerRequest: 3, maxSeriesPerRequest: 10 };
    expect(() =>
      validateRequest({ series: sample, samples: 4, histograms: 1, exemplars: 0 }, limits),
    ).toThrowError(/5 samples in one request exceed the limit of 3/);
  });
});
