/**
 * The bucket formats storage owns, against golden files written by Thanos'
 * own code (v0.42.5; see storage/test/thanos-golden/main.go): marks are
 * written byte for byte as Thanos writes them and read as Thanos reads
 * them; Thanos' and Prometheus' meta.json read with their sections.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type DeletionMark,
  deletionMarkFormat,
  type NoCompactMark,
  NoCompactReason,
  newDeletionMark,
  newNoCompactMark,
  newNoDownsampleMark,
  noCompactMarkFormat,
  noDownsampleMarkFormat,
} from '../src/block/marks.js';
import { encodeMeta, offsetRanges, parseMeta } from '../src/block/meta.js';
import { Resolution, resolutionName, resolutionOf } from '../src/block/resolution.js';
import { isStorageError, StorageErrorCode } from '../src/errors.js';

const golden = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'thanos');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(golden, name)));
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const ID = '01HF816CEH0049R3BH1RNJ9KXH';
const SRC1 = '01HF7ZQ4A0SEQ9VJ8K2M3N4P5Q';
const SRC2 = '01HF86KZ80SEQ9VJ8K2M3N4P5R';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isStorageError(e) ? e.code : `not a StorageError: ${String(e)}`;
  }
  return undefined;
}

describe('Thanos marks', () => {
  const cases: [
    string,
    { encode(m: never): Uint8Array; parse(b: Uint8Array, c: object): unknown },
    object,
  ][] = [
    [
      'deletion-mark.json',
      deletionMarkFormat,
      { id: ID, version: 1, details: 'compacted into 01HF8GZS00SEQ9VJ8K2M3N4P5S', deletion_time: 1700000000 },
    ],
    ['deletion-mark-no-details.json', deletionMarkFormat, { id: ID, version: 1, deletion_time: 1700000001 }],
    [
      'deletion-mark-escaped.json',
      deletionMarkFormat,
      { id: ID, version: 1, details: 'sources <2h> & "vertical"\n\u2028\u0001', deletion_time: 1700000005 },
    ],
    [
      'no-compact-mark.json',
      noCompactMarkFormat,
      { id: ID, version: 1, details: 'operator asked', no_compact_time: 1700000002, reason: 'manual' },
    ],
    [
      'no-compact-mark-out-of-order.json',
      noCompactMarkFormat,
      { id: ID, version: 1, no_compact_time: 1700000003, reason: NoCompactReason.OutOfOrderChunks },
    ],
    [
      'no-downsample-mark.json',
      noDownsampleMarkFormat,
      { id: ID, version: 1, no_downsample_time: 1700000004, reason: 'manual' },
    ],
  ];

  for (const [file, format, mark] of cases) {
    it(`reads and writes ${file} as Thanos does`, () => {
      const bytes = read(file);
      expect(format.parse(bytes, { block: ID })).toEqual(mark);
      expect(text(format.encode(mark as never))).toBe(text(bytes));
    });
  }

  it('dates new marks in Unix seconds from the injected clock', () => {
    const now = 1_700_000_000_999;
    expect(newDeletionMark(ID, now, 'compacted into 01HF8GZS00SEQ9VJ8K2M3N4P5S')).toEqual(
      deletionMarkFormat.parse(read('deletion-mark.json'), {}),
    );
    expect(newDeletionMark(ID, now)).toEqual({ id: ID, version: 1, deletion_time: 1_700_000_000 });
    expect(newNoCompactMark(ID, now, NoCompactReason.Manual)).toEqual<NoCompactMark>({
      id: ID,
      version: 1,
      no_compact_time: 1_700_000_000,
      reason: 'manual',
    });
    expect(newNoDownsampleMark(ID, now, 'manual', 'why').details).toBe('why');
  });

  it('reads missing fields as Go does (zero values) and refuses what Thanos refuses', () => {
    // Go's decoder leaves absent fields at zero; Thanos then checks only the version.
    expect(deletionMarkFormat.parse(enc('{"version":1}'), {})).toEqual<DeletionMark>({
      id: '00000000000000000000000000',
      version: 1,
      deletion_time: 0,
    });
    const bad: [string, string][] = [
      ['{}', StorageErrorCode.Unsupported],
      ['{"id":"01HF816CEH0049R3BH1RNJ9KXH","version":2,"deletion_time":1}', StorageErrorCode.Unsupported],
      ['{"id":"01HF816CEH0049R3BH1RNJ9KXH","version":1,"deletion_ti', StorageErrorCode.Corrupt],
      ['[1]', StorageErrorCode.Corrupt],
      ['{"id":"not-a-ulid","version":1}', StorageErrorCode.Corrupt],
      ['{"id":"01HF816CEH0049R3BH1RNJ9KXH","version":1,"deletion_time":"soon"}', StorageErrorCode.Corrupt],
      ['{"id":"01HF816CEH0049R3BH1RNJ9KXH","version":1,"deletion_time":1.5}', StorageErrorCode.Corrupt],
      ['{"id":"01HF816CEH0049R3BH1RNJ9KXH","version":1,"details":7}', StorageErrorCode.Corrupt],
    ];
    for (const [json, code] of bad)
      expect([json, codeOf(() => deletionMarkFormat.parse(enc(json), {}))]).toEqual([json, code]);
    expect(codeOf(() => noCompactMarkFormat.parse(enc('{"version":1,"reason":3}'), {}))).toBe('corrupt');
    expect(codeOf(() => noDownsampleMarkFormat.parse(new Uint8Array([0xff, 0xfe]), {}))).toBe('corrupt');
  });
});

describe('meta.json as Thanos and Prometheus write it', () => {
  it('reads a compactor-written 5m block with labels, resolution, source, parents and files', () => {
    const m = parseMeta(read('meta-compactor-5m.json'), { block: ID });
    expect(m).toMatchObject({
      ulid: ID,
      minTime: 1699920000000,
      maxTime: 1700092800000,
      stats: { numSamples: 57600, numSeries: 12, numChunks: 480 },
      compaction: {
        level: 3,
        sources: [SRC1, SRC2],
        parents: [
          { ulid: SRC1, minTime: 1699920000000, maxTime: 1700006400000 },
          { ulid: SRC2, minTime: 1700006400000, maxTime: 1700092800000 },
        ],
      },
      thanos: {
        labels: { cluster: 'eu1', replica: 'a' },
        downsample: { resolution: 300000 },
        source: 'compactor',
        segment_files: ['000001'],
        files: [
          { rel_path: 'chunks/000001', size_bytes: 123456 },
          { rel_path: 'index', size_bytes: 7890 },
          { rel_path: 'meta.json' },
        ],
      },
    });
    expect(resolutionOf(m)).toBe(Resolution.FiveMinutes);
    expect(resolutionName(resolutionOf(m))).toBe('5m');
    expect(offsetRanges(m)).toEqual([]);
  });

  it('reads null labels (a sidecar block) as no labels, raw', () => {
    const m = parseMeta(read('meta-sidecar-raw.json'), { block: SRC1 });
    expect(m.thanos).toMatchObject({ labels: {}, downsample: { resolution: 0 }, source: 'sidecar' });
    expect(resolutionOf(m)).toBe(Resolution.Raw);
  });

  it('reads a plain Prometheus block (no thanos section) as raw', () => {
    const m = parseMeta(read('meta-prometheus.json'), { block: SRC2 });
    expect(m.thanos).toBeUndefined();
    expect(resolutionOf(m)).toBe(Resolution.Raw);
    expect(resolutionName(resolutionOf(m))).toBe('raw');
    expect(m.compaction.sources).toEqual([SRC2]);
  });

  it('refuses a thanos section version Thanos refuses, and malformed sections', () => {
    /** The fields the variants change, as JSON gives them. */
    interface MetaJson {
      version: unknown;
      compaction: { sources?: unknown };
      thanos: { version?: unknown; labels: unknown; downsample: { resolution: unknown }; source: unknown };
    }
    const meta = JSON.parse(text(read('meta-compactor-5m.json'))) as MetaJson;
    const variant = (patch: (m: MetaJson) => void): string | undefined => {
      const m = structuredClone(meta);
      patch(m);
      return codeOf(() => parseMeta(enc(JSON.stringify(m)), { block: ID }));
    };
    expect(variant(() => {})).toBeUndefined();
    expect(variant((m) => (m.thanos.version = 1))).toBeUndefined();
    expect(variant((m) => (m.thanos.version = 2))).toBe('unsupported');
    expect(variant((m) => (m.version = 2))).toBe('corrupt');
    expect(variant((m) => (m.thanos.downsample.resolution = -1))).toBe('corrupt');
    expect(variant((m) => (m.thanos.downsample.resolution = '5m'))).toBe('corrupt');
    expect(variant((m) => (m.thanos.labels = { a: 1 }))).toBe('corrupt');
    expect(variant((m) => (m.thanos.source = 3))).toBe('corrupt');
    expect(variant((m) => delete m.compaction.sources)).toBeUndefined();
  });

  it('keeps the promstream section: one log slice, or every source slice of a compacted block', () => {
    const base = parseMeta(read('meta-compactor-5m.json'), { block: ID });
    const one = { ...base, promstream: { partition: 3, minOffset: 100, maxOffset: 199, topic: 't' } };
    const back = parseMeta(encodeMeta(one), { block: ID });
    expect(offsetRanges(back)).toEqual([{ topic: 't', partition: 3, minOffset: 100, maxOffset: 199 }]);
    const ranges = [
      { partition: 0, minOffset: 0, maxOffset: 99 },
      { partition: 1, minOffset: 50, maxOffset: 80 },
      { topic: 'promstream.derived.v1', partition: 0, minOffset: 7, maxOffset: 9 },
    ];
    const many = { ...base, promstream: { ranges, tenant: 'a' } };
    const bytes = encodeMeta(many);
    expect(text(bytes)).toContain('"ranges": [');
    const m = parseMeta(bytes, { block: ID });
    expect(offsetRanges(m)).toEqual(ranges);
    expect(m.promstream?.tenant).toBe('a');
    // The parts of Thanos' section promstream knows come through its writer unchanged.
    const { labels, downsample, source, segment_files, files } = base.thanos!;
    expect(m.thanos).toEqual({ labels, downsample, source, segment_files, files });
    const json = JSON.parse(text(bytes));
    for (const bad of [{}, { partition: 1 }, { ranges: [{ partition: 1, minOffset: 0 }] }, { ranges: 3 }]) {
      const meta = enc(JSON.stringify({ ...json, promstream: bad }));
      expect([bad, codeOf(() => parseMeta(meta, { block: ID }))]).toEqual([bad, 'corrupt']);
    }
  });
});
