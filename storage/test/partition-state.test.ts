import { describe, expect, it } from 'vitest';
import {
  decodePartitionState,
  encodePartitionState,
  MemoryObjectStore,
  partitionStateKey,
  readPartitionState,
  StorageError,
} from '../src/index.js';

describe('partition state', () => {
  it('round-trips a version 2 state, -Infinity as null, through the bucket', async () => {
    const store = new MemoryObjectStore();
    const state = {
      boundary: Number.NEGATIVE_INFINITY,
      nextOffset: 42,
      handledThrough: 44,
      clock: 1_700_000_000_000,
      backfillCuts: [{ tenant: 'a', start: 0, through: 43 }],
      rules: {
        blockDuration: 7_200_000,
        outOfOrderWindow: 600_000,
        futureGrace: 600_000,
        backfillIdle: 600_000,
      },
    };
    await store.put(partitionStateKey('t', 3), encodePartitionState('t', 3, state));
    const text = Buffer.from(await store.get('_promstream/block-builder/t/3.json')).toString('utf8');
    expect(JSON.parse(text)).toMatchObject({ version: 2, topic: 't', partition: 3, boundary: null });
    expect(await readPartitionState(store, 't', 3)).toEqual(state);
    expect(await readPartitionState(store, 't', 4)).toBeUndefined();
  });

  it('reads version 1 states and refuses other versions and malformed ones as corrupt', () => {
    const v1 = Buffer.from(JSON.stringify({ version: 1, boundary: 7200000, nextOffset: 5 }));
    expect(decodePartitionState('k', v1)).toEqual({ boundary: 7200000, nextOffset: 5 });
    for (const bad of [
      '{"version":3,"nextOffset":1}',
      '{"version":2}',
      'not json',
      '{"version":2,"nextOffset":1,"backfillCuts":[{"tenant":1}]}',
    ]) {
      expect(() => decodePartitionState('k', Buffer.from(bad))).toThrowError(StorageError);
      expect(() => decodePartitionState('k', Buffer.from(bad))).toThrowError(/partition state k/);
    }
  });
});
