import { describe, expect, it } from 'vitest';
import { anomaly, event, sampleBatch } from '../test/fixtures.js';
import { avroType } from './avro-schemas.js';
import type { SampleBatch } from './types.js';

/**
 * The fixture Event in Avro binary: time (zig-zag varint), host (len 2, "h1"),
 * source (index 0, kernel), kind (len 8, "oom_kill"), severity (index 4, error),
 * message (len 41), attributes (a block of 2 entries, then 0).
 */
const PINNED_EVENT_HEX =
  '90a7bfe9d66604683100106f6f6d5f6b696c6c08524f7574206f66206d656d6f72793a204b696c6c65642070726f63657373203432343220286a617661290406706964083432343208636f6d6d086a61766100';

describe('schema files', () => {
  it('parse with their full names', () => {
    expect(avroType('sampleBatch').name).toBe('io.promstream.SampleBatch');
    expect(avroType('event').name).toBe('io.promstream.Event');
    expect(avroType('anomaly').name).toBe('io.promstream.Anomaly');
  });

  it('accept the TypeScript shapes and round-trip them', () => {
    for (const [kind, value] of [
      ['sampleBatch', sampleBatch],
      ['event', event],
      ['anomaly', anomaly],
    ] as const) {
      const type = avroType(kind);
      const paths: string[] = [];
      expect(type.isValid(value, { errorHook: (path) => paths.push(path.join('.')) })).toBe(true);
      expect(paths).toEqual([]);
      // Plain avsc gives the SampleBatch's absent `columns` back as its default, null.
      const expected = kind === 'sampleBatch' ? { ...value, columns: null } : value;
      expect(type.fromBuffer(type.toBuffer(value))).toEqual(expected);
    }
  });

  it('keep the staleness marker bit for bit', () => {
    const type = avroType('sampleBatch');
    const back = type.fromBuffer(type.toBuffer(sampleBatch)) as SampleBatch;
    const bits = Buffer.alloc(8);
    bits.writeDoubleBE(back.series[1]!.histograms[0]!.histogram.sum);
    expect(bits.toString('hex')).toBe('7ff0000000000002');
  });

  it('reject values that do not fit', () => {
    const type = avroType('event');
    expect(type.isValid({ ...event, source: 'disk' })).toBe(false);
    expect(type.isValid({ ...event, time: 1.5 })).toBe(false);
    const { host: _, ...noHost } = event;
    expect(type.isValid(noHost)).toBe(false);
  });

  it('encodes the Event fixture to pinned bytes', () => {
    // A change here is a change of the record format: update docs/log-records.md and think about old readers.
    expect(avroType('event').toBuffer(event).toString('hex')).toBe(PINNED_EVENT_HEX);
  });
});
