import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import { encodeXorChunk, StorageError, StorageErrorCode } from '@promstream/storage';
import { describe, expect, test } from 'vitest';
import { StreamError } from '../errors.js';
import { ObjectPartitionStateStore, partitionStateKey } from './partition-state-store.js';
import { sampleBatchDecoder } from './sample-batch-decoder.js';

class MapObjects {
  readonly map = new Map<string, Uint8Array>();
  async get(key: string) {
    const v = this.map.get(key);
    if (v === undefined) throw new StorageError(StorageErrorCode.NotFound, `no ${key}`);
    return v;
  }
  async put(key: string, body: Uint8Array) {
    this.map.set(key, body);
  }
}

describe('partition state store', () => {
  test('round-trips states, a missing one is undefined, a bad one a STATE_FORMAT error', async () => {
    const objects = new MapObjects();
    const store = new ObjectPartitionStateStore(objects);
    expect(await store.load('t', 0)).toBeUndefined();
    await store.save('t', 0, { boundary: 7_200_000, nextOffset: 42 });
    await store.save('t', 1, { boundary: -Infinity, nextOffset: 0 });
    expect(await store.load('t', 0)).toEqual({
      boundary: 7_200_000,
      nextOffset: 42,
      handledThrough: 41,
      backfillCuts: [],
    });
    expect(await store.load('t', 1)).toEqual({
      boundary: -Infinity,
      nextOffset: 0,
      handledThrough: -1,
      backfillCuts: [],
    });
    const full = {
      boundary: 0,
      nextOffset: 5,
      handledThrough: 9,
      clock: 1_764_000_000_000,
      backfillCuts: [{ tenant: 'a', start: 7_200_000, through: 7 }],
      rules: {
        blockDuration: 7_200_000,
        outOfOrderWindow: 600_000,
        futureGrace: 600_000,
        backfillIdle: 600_000,
      },
    };
    await store.save('t', 3, full);
    expect(await store.load('t', 3)).toEqual(full);
    // A version 1 state, as builders before dead letters wrote it, still loads.
    objects.map.set(partitionStateKey('t', 4), Buffer.from('{"version":1,"boundary":null,"nextOffset":3}'));
    expect(await store.load('t', 4)).toEqual({ boundary: -Infinity, nextOffset: 3 });
    expect(partitionStateKey('t', 0)).toBe('_promstream/block-builder/t/0.json');
    objects.map.set(partitionStateKey('t', 2), Buffer.from('{"version":9}'));
    await expect(store.load('t', 2)).rejects.toMatchObject({ code: 'STATE_FORMAT' });
  });
});

describe('sample batch decoder', () => {
  test('decodes XOR chunks and counts histograms', async () => {
    const labels = [{ name: '__name__', value: 'up' }];
    const decoder = sampleBatchDecoder(async () => ({
      tenant: 'a',
      series: [
        { labels, encoding: 'XOR', chunk: encodeXorChunk([1000, 2000], [1, 0.5]) },
        { labels, encoding: 'HISTOGRAM', chunk: new Uint8Array(), histograms: [{}, {}] },
      ],
    }));
    const batch = await decoder.decode(Buffer.alloc(0));
    expect(batch.tenant).toBe('a');
    expect(Array.from(batch.series[0]!.t)).toEqual([1000, 2000]);
    expect(Array.from(batch.series[0]!.v)).toEqual([1, 0.5]);
    expect(batch.skippedHistograms).toBe(2);
  });

  test('a record that does not deserialize is a BAD_RECORD error', async () => {
    const decoder = sampleBatchDecoder(async () => {
      throw new Error('magic byte');
    });
    await expect(decoder.decode(Buffer.from('x'))).rejects.toBeInstanceOf(StreamError);
    const broken = sampleBatchDecoder(async () => ({
      tenant: 'a',
      series: [{ labels: [], encoding: 'XOR', chunk: new Uint8Array([0, 5, 1]) }],
    }));
    await expect(broken.decode(Buffer.alloc(0))).rejects.toMatchObject({ code: 'BAD_RECORD' });
    const unavailable = sampleBatchDecoder(async () => {
      throw Object.assign(new Error('registry down'), { retryable: true });
    });
    await expect(unavailable.decode(Buffer.alloc(0))).rejects.toMatchObject({
      code: 'DECODE_UNAVAILABLE',
      retryable: true,
    });
  });

  test('classifies deserialization failures: registry down waits, unknown id and wrong schema recheck, bytes are final', async () => {
    const cases: [unknown, string, boolean, boolean][] = [
      [new SchemaError(SchemaErrorCode.Registry, 'ECONNREFUSED'), 'DECODE_UNAVAILABLE', true, false],
      [new SchemaError(SchemaErrorCode.UnknownSchemaId, '404'), 'SCHEMA_UNKNOWN_ID', false, true],
      [new SchemaError(SchemaErrorCode.Unresolvable, '"string"'), 'SCHEMA_MISMATCH', false, true],
      [new SchemaError(SchemaErrorCode.BodyMismatch, 'truncated'), 'SCHEMA_MISMATCH', false, true],
      [new SchemaError(SchemaErrorCode.BadWireFormat, 'magic 1'), 'BAD_RECORD', false, false],
      [new Error('anything else'), 'BAD_RECORD', false, false],
    ];
    for (const [thrown, code, retryable, recheck] of cases) {
      const decoder = sampleBatchDecoder(async () => {
        throw thrown;
      });
      const err = await decoder.decode(Buffer.alloc(0)).catch((e: StreamError) => e);
      expect(err).toMatchObject({ code, retryable, recheck, deadLetter: !retryable });
    }
  });
});
