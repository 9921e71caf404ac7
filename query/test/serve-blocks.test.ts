import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  createBlocksFromOpenMetrics,
  MemoryObjectStore,
  type ObjectStore,
  objectStoreFromUrl,
} from '@promstream/storage';
import { announceSkip, prometheusReference, realS3 } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveBlocks } from '../src/serve-blocks.js';
import type { QueryServer } from '../src/server.js';

// The query role end to end: blocks written by the storage package's
// OpenMetrics backfill into an object store, served through the API, the
// tenant picked by X-Scope-OrgID. Runs on the memory store and, when
// S3_ENDPOINT is set, on the real S3 server.

const run = promisify(execFile);
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z, seconds; block-aligned.

/** A counter per job over 3 hours at 60 s, so the data spans two blocks. */
function openMetrics(jobs: Record<string, number>): string {
  let out = '# TYPE work_total counter\n';
  for (const [job, perMinute] of Object.entries(jobs)) {
    for (let i = 0; i <= 180; i++) out += `work_total{job="${job}"} ${i * perMinute} ${T0 + i * 60}\n`;
  }
  out += '# TYPE temp gauge\n';
  for (let i = 0; i <= 180; i++) out += `temp{room="lab"} ${20 + (i % 10)} ${T0 + i * 60}\n`;
  return `${out}# EOF\n`;
}

async function seed(store: ObjectStore, prefix: string): Promise<void> {
  await createBlocksFromOpenMetrics(openMetrics({ a: 60, b: 120 }), store, `${prefix}anonymous`);
  await createBlocksFromOpenMetrics(openMetrics({ other: 6 }), store, `${prefix}team-b`);
}

async function query(server: QueryServer, params: Record<string, string>, tenant?: string) {
  const res = await fetch(`${server.url}/api/v1/query?${new URLSearchParams(params)}`, {
    headers: tenant === undefined ? {} : { 'X-Scope-OrgID': tenant },
  });
  return { status: res.status, body: (await res.json()) as { status: string; data: { result: unknown[] } } };
}

function suite(
  name: string,
  skip: boolean,
  makeStore: () => Promise<{ store: ObjectStore; prefix: string }>,
) {
  describe.skipIf(skip)(name, () => {
    let server: QueryServer | undefined;
    beforeAll(async () => {
      const made = await makeStore();
      await seed(made.store, made.prefix);
      // A store view under the prefix, as the role sees a bucket URL with a path.
      const store = made.prefix === '' ? made.store : prefixed(made.store, made.prefix);
      server = await serveBlocks({ store, port: 0 });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('answers rate over data spanning two blocks', async () => {
      if (server === undefined) throw new Error('the query role did not start');
      const t = T0 + 150 * 60;
      const r = await query(server, { query: 'sum by (job) (rate(work_total[10m]))', time: String(t) });
      expect(r.status).toBe(200);
      const result = r.body.data.result as Array<{ metric: { job: string }; value: [number, string] }>;
      expect(result.map((s) => s.metric.job)).toEqual(['a', 'b']);
      expect(Number(result[0]!.value[1])).toBeCloseTo(1, 9);
      expect(Number(result[1]!.value[1])).toBeCloseTo(2, 9);
      // Across the block boundary at T0 + 2 h: the samples of both blocks form one series.
      const across = await query(server, { query: 'count_over_time(temp[1h])', time: String(T0 + 150 * 60) });
      expect((across.body.data.result[0] as { value: [number, string] }).value[1]).toBe('60');
    });

    it('selects the tenant with X-Scope-OrgID', async () => {
      if (server === undefined) throw new Error('the query role did not start');
      const r = await query(server, { query: 'work_total', time: String(T0 + 3600) }, 'team-b');
      const result = r.body.data.result as Array<{ metric: { job: string }; value: [number, string] }>;
      expect(result.map((s) => [s.metric.job, s.value[1]])).toEqual([['other', '360']]);
      const none = await query(server, { query: 'work_total', time: String(T0 + 3600) }, 'nobody');
      expect(none.body.data.result).toEqual([]);
    });

    it('answers series and label values from the blocks', async () => {
      if (server === undefined) throw new Error('the query role did not start');
      const res = await fetch(`${server.url}/api/v1/label/job/values?start=${T0}&end=${T0 + 7200}`);
      expect(await res.json()).toEqual({ status: 'success', data: ['a', 'b'] });
      const s = await fetch(`${server.url}/api/v1/series?match[]=temp&start=${T0}&end=${T0 + 60}`);
      expect(await s.json()).toEqual({ status: 'success', data: [{ __name__: 'temp', room: 'lab' }] });
      // Series come from the index alone; a range after the data finds none.
      const later = await fetch(
        `${server.url}/api/v1/series?match[]=temp&start=${T0 + 4 * 3600}&end=${T0 + 5 * 3600}`,
      );
      expect(await later.json()).toEqual({ status: 'success', data: [] });
      const both = await fetch(
        `${server.url}/api/v1/series?match[]=work_total&start=${T0 + 3000}&end=${T0 + 9000}`,
      );
      expect(await both.json()).toEqual({
        status: 'success',
        data: [
          { __name__: 'work_total', job: 'a' },
          { __name__: 'work_total', job: 'b' },
        ],
      });
    });

    it('serves /metrics', async () => {
      if (server === undefined) throw new Error('the query role did not start');
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('promstream_query_duration_seconds_count');
      expect(text).toContain('promstream_query_bad_blocks_total');
    });
  });
}

function prefixed(store: ObjectStore, prefix: string): ObjectStore {
  return {
    get: (key, range) => store.get(prefix + key, range),
    put: (key, body, options) => store.put(prefix + key, body, options),
    delete: (key) => store.delete(prefix + key),
    head: async (key) => {
      const info = await store.head(prefix + key);
      return info === undefined ? undefined : { ...info, key: info.key.slice(prefix.length) };
    },
    list: async function* (p, options) {
      for await (const info of store.list(prefix + p, options))
        yield { ...info, key: info.key.slice(prefix.length) };
    },
  };
}

suite('query role over the memory store', false, async () => ({
  store: new MemoryObjectStore(),
  prefix: '',
}));

const s3 = realS3();
if (!s3.ok) announceSkip('serve-blocks on S3', s3.reason);
suite('query role over the real S3 server', !s3.ok, async () => {
  if (!s3.ok) throw new Error(s3.reason);
  const b = s3.backend;
  const store = objectStoreFromUrl(`s3://${b.bucket}?path-style=true`, {
    endpoint: b.endpoint,
    region: b.region,
    accessKeyId: b.accessKeyId,
    secretAccessKey: b.secretAccessKey,
  });
  return { store, prefix: `query-test-${process.pid}-${Date.now()}/` };
});

const reference = prometheusReference();
const promtool = reference.ok ? reference.backend.promtool : undefined;
describe.skipIf(promtool === undefined)('promtool against the query role', () => {
  it('reads a range answer computed from blocks', async () => {
    const store = new MemoryObjectStore();
    await seed(store, '');
    const server = await serveBlocks({ store, port: 0 });
    try {
      const { stdout } = await run(promtool!, [
        'query',
        'range',
        '-o',
        'json',
        `--start=${T0 + 7140}`,
        `--end=${T0 + 7260}`,
        '--step=60s',
        server.url,
        'temp',
      ]);
      expect(JSON.parse(stdout)).toEqual([
        {
          metric: { __name__: 'temp', room: 'lab' },
          values: [
            [T0 + 7140, '29'],
            [T0 + 7200, '20'],
            [T0 + 7260, '21'],
          ],
        },
      ]);
    } finally {
      await server.close();
    }
  });
});
if (!reference.ok) announceSkip('serve-blocks promtool', reference.reason);
