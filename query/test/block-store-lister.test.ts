import { MemoryObjectStore } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import type { QueryableBlock } from '../src/blocks/block-querier.js';
import { type BlockMetaSummary, storeBlockLister } from '../src/blocks/store-lister.js';

const enc = new TextEncoder();
const ID1 = '01JABCDEFGHJKMNPQRSTVWXYZ0';
const ID2 = '01JABCDEFGHJKMNPQRSTVWXYZ1';
const ID3 = '01JABCDEFGHJKMNPQRSTVWXYZ2';
const ID4 = '01JABCDEFGHJKMNPQRSTVWXYZ3';
const ID5 = '01JABCDEFGHJKMNPQRSTVWXYZ4';

function meta(ulid: string, extra: object = {}): Uint8Array {
  return enc.encode(JSON.stringify({ ulid, minTime: 0, maxTime: 7200000, version: 1, ...extra }));
}

describe('storeBlockLister', () => {
  it('lists live raw blocks of one tenant and reports unreadable metas on open', async () => {
    const store = new MemoryObjectStore();
    await store.put(`t1/${ID1}/meta.json`, meta(ID1));
    await store.put(`t1/${ID1}/index`, new Uint8Array([1]));
    // Marked for deletion.
    await store.put(`t1/${ID2}/meta.json`, meta(ID2));
    await store.put(`t1/${ID2}/deletion-mark.json`, enc.encode('{}'));
    // Still uploading: no meta.json yet.
    await store.put(`t1/${ID3}/index`, new Uint8Array([1]));
    // Downsampled.
    await store.put(`t1/${ID4}/meta.json`, meta(ID4, { thanos: { downsample: { resolution: 300000 } } }));
    // Corrupt meta.
    await store.put(`t1/${ID5}/meta.json`, enc.encode('{"ulid":'));
    // Not a block directory, and another tenant.
    await store.put('t1/debug/meta.json', meta(ID1));
    await store.put(`t2/${ID1}/meta.json`, meta(ID1));

    const opened: Array<[string, BlockMetaSummary]> = [];
    const lister = storeBlockLister(store, async (_s, prefix, m) => {
      opened.push([prefix, m]);
      return { id: m.ulid } as unknown as QueryableBlock;
    });
    const listed = await lister('t1');
    expect(listed.map((b) => b.id)).toEqual([ID1, ID5]);
    await listed[0]!.open();
    expect(opened).toEqual([[`t1/${ID1}/`, { ulid: ID1, minTime: 0, maxTime: 7200000, resolution: 0 }]]);
    await expect(listed[1]!.open()).rejects.toThrow();
    expect((await lister('t2')).map((b) => b.id)).toEqual([ID1]);
    expect(await lister('nobody')).toEqual([]);
  });
});
