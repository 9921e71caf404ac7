import {
  BucketCatalog,
  compactBlocks,
  downsampleBlock,
  MemoryObjectStore,
  RES_5M,
} from '@promstream/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryableBlock } from '../src/blocks/block-querier.js';
import { catalogBlockLister } from '../src/blocks/catalog-lister.js';
import { serveBlocks } from '../src/serve-blocks.js';
import type { QueryServer } from '../src/server.js';
import { fixture, H, rawBlock, T0 } from './resolution-fixture.js';

const TENANT = 't';
const AT = T0 + 4 * H - 1;

/** The sum of every raw sample of `requests_total` in [T0, T0 + 4h), per series, counted once. */
function expectedSums(): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of fixture(T0, T0 + 4 * H)) {
    if (s.labels[0]!.value !== 'requests_total') continue;
    out.set(
      s.labels.find((l) => l.name === 'series')!.value,
      s.v.reduce((a, b) => a + b, 0),
    );
  }
  return out;
}

async function sums(server: QueryServer, resolution: string): Promise<Map<string, number>> {
  const params = new URLSearchParams({
    query: 'sum_over_time(requests_total[4h])',
    time: String(AT / 1000),
    max_source_resolution: resolution,
  });
  const body = (await (await fetch(`${server.url}/api/v1/query?${params}`)).json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return new Map(body.data.result.map((s) => [s.metric.series!, Number(s.value[1])]));
}

function expectClose(got: Map<string, number>, want: Map<string, number>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect(Math.abs(got.get(k)! - v)).toBeLessThanOrEqual(1e-9 * Math.abs(v));
}

describe('a bucket between a compaction’s upload and the deletion marks of its sources', () => {
  const store = new MemoryObjectStore();
  const catalog = new BucketCatalog(store);
  let server: QueryServer;
  let ids: { a: string; b: string; c: string; da: string; dc: string };

  beforeAll(async () => {
    // Two 2h blocks, their compaction (sources A and B), and 5m downsamples of A and of the compaction.
    const a = await rawBlock(store, TENANT, T0, T0 + 2 * H);
    const b = await rawBlock(store, TENANT, T0 + 2 * H, T0 + 4 * H);
    const c = (await compactBlocks(store, TENANT, [a, b])).meta;
    const da = (await downsampleBlock(store, TENANT, a, RES_5M)).meta;
    const dc = (await downsampleBlock(store, TENANT, c, RES_5M)).meta;
    ids = { a: a.ulid, b: b.ulid, c: c.ulid, da: da.ulid, dc: dc.ulid };
    server = await serveBlocks({
      store,
      port: 0,
      defaultTenant: TENANT,
      catalogRefreshMs: 1,
      evalThreads: 1,
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('lists only the newest holder of each source, per resolution', async () => {
    const lister = catalogBlockLister(catalog, async () => ({}) as QueryableBlock);
    expect((await lister(TENANT)).map((l) => l.id).sort()).toEqual([ids.c, ids.dc].sort());
  });

  it('counts each sample once at raw and 5m, before and after the sources are marked', async () => {
    const want = expectedSums();
    expect(want.size).toBe(2);
    expectClose(await sums(server, 'raw'), want);
    expectClose(await sums(server, '5m'), want);
    for (const id of [ids.a, ids.b, ids.da]) await catalog.tenant(TENANT).markForDeletion(id);
    expectClose(await sums(server, 'raw'), want);
    expectClose(await sums(server, '5m'), want);
  });

  it('reads at step/5 without max_source_resolution when auto downsampling is on', async () => {
    const auto = await serveBlocks({
      store,
      port: 0,
      defaultTenant: TENANT,
      autoDownsampling: true,
      evalThreads: 1,
    });
    try {
      const answer = async (s: QueryServer, resolution?: string) => {
        const params = new URLSearchParams({
          query: 'count_over_time(temperature[1h])',
          start: String((T0 + H) / 1000),
          end: String(AT / 1000),
          step: '3600',
          ...(resolution === undefined ? {} : { max_source_resolution: resolution }),
        });
        const body = (await (await fetch(`${s.url}/api/v1/query_range?${params}`)).json()) as {
          data: { result: { values: [number, string][] }[] };
        };
        return body.data.result.map((r) => r.values);
      };
      // A 1h step allows 12m: 5m blocks, whose count aggregate gives 12 windows an hour, not 60 samples.
      const byAuto = await answer(auto);
      expect(byAuto.flat().length).toBeGreaterThan(0);
      expect(byAuto).toEqual(await answer(server, '5m'));
      expect(byAuto.flat().every(([, v]) => Number(v) <= 12)).toBe(true);
      expect(await answer(auto, 'raw')).toEqual(await answer(server));
      expect((await answer(server)).flat().some(([, v]) => Number(v) > 12)).toBe(true);
    } finally {
      await auto.close();
    }
  });
});
