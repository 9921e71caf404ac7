import {
  type BlockMeta,
  BucketCatalog,
  encodeXorChunk,
  isStorageError,
  MemoryObjectStore,
  Resolution,
  StorageError,
  StorageErrorCode,
  tenantStore,
  writeBlock,
} from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import type { QueryableBlock } from '../src/blocks/block-querier.js';
import { catalogBlockLister } from '../src/blocks/catalog-lister.js';
import { TenantBlocks } from '../src/blocks/tenant-blocks.js';

const enc = new TextEncoder();

function series(name: string) {
  return [
    {
      labels: [{ name: '__name__', value: name }],
      chunks: [{ minTime: 0, maxTime: 1000, bytes: encodeXorChunk([0, 1000], [1, 2]) }],
    },
  ];
}

function fakeBlock(meta: BlockMeta): QueryableBlock {
  return { id: meta.ulid, minTime: meta.minTime, maxTime: meta.maxTime } as unknown as QueryableBlock;
}

describe('catalogBlockLister', () => {
  it('lists a tenant’s live blocks of every resolution from the storage catalog and reports unreadable metas on open', async () => {
    const bucket = new MemoryObjectStore();
    const t1 = tenantStore(bucket, 't1');
    const raw = await writeBlock(t1, '', series('raw'));
    const marked = await writeBlock(t1, '', series('marked'));
    const down = await writeBlock(t1, '', series('down'), {
      thanos: { labels: {}, downsample: { resolution: Resolution.FiveMinutes }, source: 'test' },
    });
    // Still uploading (no meta.json yet), and a meta that does not read.
    await t1.put('01JABCDEFGHJKMNPQRSTVWXYZ2/index', new Uint8Array([1]));
    await t1.put('01JABCDEFGHJKMNPQRSTVWXYZ4/meta.json', enc.encode('{"ulid":'));
    await t1.put('debug/meta.json', new Uint8Array([1]));
    const other = await writeBlock(tenantStore(bucket, 't2'), '', series('other'));
    const catalog = new BucketCatalog(bucket);
    await catalog.tenant('t1').markForDeletion(marked.ulid);

    const opened: [string, string][] = [];
    const lister = catalogBlockLister(catalog, async (store, prefix, meta) => {
      expect(store).toBe(bucket);
      opened.push([prefix, meta.ulid]);
      return fakeBlock(meta);
    });
    const listed = await lister('t1');
    expect(listed.map((b) => b.id).sort()).toEqual(
      [raw.ulid, down.ulid, '01JABCDEFGHJKMNPQRSTVWXYZ4'].sort(),
    );
    await listed.find((b) => b.id === raw.ulid)!.open();
    expect(opened).toEqual([[`t1/${raw.ulid}/`, raw.ulid]]);
    const err = await listed
      .find((b) => b.id === '01JABCDEFGHJKMNPQRSTVWXYZ4')!
      .open()
      .catch((e: unknown) => e);
    expect(isStorageError(err, StorageErrorCode.Corrupt)).toBe(true);
    expect((err as StorageError).message).toContain('t1/01JABCDEFGHJKMNPQRSTVWXYZ4');
    expect((await lister('t2')).map((b) => b.id)).toEqual([other.ulid]);
    expect(await lister('nobody')).toEqual([]);

    // A lister for one resolution lists those (and the unreadable block, whose resolution is unknown).
    const fiveMin = catalogBlockLister(catalog, async (_s, _p, meta) => fakeBlock(meta), {
      resolution: Resolution.FiveMinutes,
    });
    expect((await fiveMin('t1')).map((b) => b.id)).toEqual([down.ulid, '01JABCDEFGHJKMNPQRSTVWXYZ4']);
  });

  it('keeps serving the last block list when listing fails, and fails with no list to keep', async () => {
    let now = 0;
    let fail = false;
    let lists = 0;
    const blocks = new TenantBlocks({
      list: async () => {
        lists++;
        if (fail) throw new StorageError(StorageErrorCode.Io, 'list objects: injected');
        return [
          { id: 'b', open: async () => ({ id: 'b', minTime: 0, maxTime: 10 }) as unknown as QueryableBlock },
        ];
      },
      refreshMs: 1000,
      now: () => now,
    });
    const first = await blocks.querier('t');
    expect(first.overlapping(0, 5).map((b) => b.id)).toEqual(['b']);
    fail = true;
    now += 1000;
    expect(await blocks.querier('t')).toBe(first);
    // Not listed again before the interval passes.
    expect(await blocks.querier('t')).toBe(first);
    expect(lists).toBe(2);
    await expect(blocks.querier('other')).rejects.toMatchObject({ code: 'io' });
  });
});
