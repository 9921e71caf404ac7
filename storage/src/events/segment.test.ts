import { parquetMetadata } from 'hyparquet';
import { describe, expect, test } from 'vitest';
import {
  decodeSegment,
  encodeSegment,
  eventSegmentName,
  parseSegmentKey,
  segmentKey,
  segmentMetadata,
} from './segment.js';
import { DEFAULT_EVENT_LIMITS, type StoredEvent, toStored } from './stored-event.js';

const origin = { topic: 'promstream.events.v1', partition: 3, firstOffset: 120, lastOffset: 987 };

function events(n: number, seed: number): StoredEvent[] {
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  return Array.from({ length: n }, (_, i) => ({
    tenant: 'team-a',
    partition: 3,
    offset: 120 + i,
    time: Date.UTC(2026, 11, 5, 10) + Math.floor(rnd() * 3_600_000),
    host: `db-${Math.floor(rnd() * 4)}`,
    source: ['kernel', 'os', 'hardware', 'app'][i % 4] as string,
    kind: rnd() < 0.5 ? 'oom_kill' : 'segfault',
    severity: 'error',
    message: `line ${i} ${'é∂'.repeat(Math.floor(rnd() * 5))}`,
    attributes:
      rnd() < 0.3
        ? ({} as Record<string, string>)
        : { pid: String(Math.floor(rnd() * 1e5)), unit: 'x.service' },
    truncated: rnd() < 0.1,
  }));
}

describe('event segments', () => {
  test('keys are hive paths named by partition and offsets, and parse back', () => {
    const key = segmentKey('team-a', Date.UTC(2026, 11, 5, 7, 59), origin);
    expect(key).toBe(
      'events/team-a/date=2026-12-05/hour=07/p00003-00000000000000000120-00000000000000000987.parquet',
    );
    expect(eventSegmentName(origin)).toBe(key.split('/').at(-1));
    expect(parseSegmentKey(key)).toEqual({
      tenant: 'team-a',
      hourStart: Date.UTC(2026, 11, 5, 7),
      partition: 3,
      firstOffset: 120,
      lastOffset: 987,
    });
    expect(parseSegmentKey('events/team-a/date=2026-12-05/hour=07/other.parquet')).toBeUndefined();
  });

  test('round-trips events and carries the offsets in the key-value metadata, zstd on every column', async () => {
    for (const n of [1, 17, 3000]) {
      const list = events(n, n);
      const bytes = encodeSegment(list, origin);
      expect(await decodeSegment(bytes)).toEqual(list);
      expect(segmentMetadata(bytes)).toMatchObject({
        'promstream.topic': origin.topic,
        'promstream.partition': '3',
        'promstream.first_offset': '120',
        'promstream.last_offset': '987',
        'promstream.format': 'events-v1',
      });
      const meta = parquetMetadata(bytes);
      const codecs = new Set(meta.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)));
      expect([...codecs]).toEqual(['ZSTD']);
    }
  });

  test('encoding is deterministic: the same events give the same bytes', () => {
    const list = events(200, 9);
    expect(Buffer.from(encodeSegment(list, origin)).equals(Buffer.from(encodeSegment(list, origin)))).toBe(
      true,
    );
  });

  test('an event over the limits is kept cut short and flagged', () => {
    const attributes = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`a${String(i).padStart(3, '0')}`, 'v']),
    );
    attributes.long = 'y'.repeat(5000);
    attributes[`k${'z'.repeat(500)}`] = 'v';
    const huge = {
      time: 1,
      host: 'h',
      source: 'kernel',
      kind: 'k',
      severity: 'info',
      message: 'm'.repeat(100_000),
      attributes,
    };
    const s = toStored(huge, 't', 0, 5);
    expect(s.truncated).toBe(true);
    expect(s.message.length).toBe(DEFAULT_EVENT_LIMITS.maxMessage);
    expect(Object.keys(s.attributes)).toHaveLength(DEFAULT_EVENT_LIMITS.maxAttributes);
    const small = toStored({ ...huge, message: 'ok', attributes: { long: 'y'.repeat(5000) } }, 't', 0, 6);
    expect(small.truncated).toBe(true);
    expect(small.attributes.long).toHaveLength(DEFAULT_EVENT_LIMITS.maxAttributeValue);
    const keyCut = toStored(
      { ...huge, message: 'ok', attributes: { [`k${'z'.repeat(500)}`]: 'v' } },
      't',
      0,
      7,
    );
    expect(Object.keys(keyCut.attributes)[0]).toHaveLength(DEFAULT_EVENT_LIMITS.maxAttributeKey);
    const fine = toStored({ ...huge, message: 'ok', attributes: { a: 'b' } }, 't', 0, 8);
    expect(fine).toMatchObject({ truncated: false, message: 'ok', attributes: { a: 'b' } });
  });
});
