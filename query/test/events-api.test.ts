import { encodeSegment, MemoryObjectStore, type StoredEvent, segmentKey } from '@promstream/storage';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BucketEventQuerier, buildQueryApp, Engine, type EventTail } from '../src/index.js';

// The events API over a memory bucket of real Parquet segments and a tail
// held in memory (the log tail on Kafka is checked in the event store's
// suite): selectors, text filters, order, pages, tenants and errors.

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 0, 0);

function event(i: number, tenant: string): StoredEvent {
  return {
    tenant,
    partition: i % 2,
    offset: i,
    time: T0 + i * 60_000,
    host: `db-${i % 3}`,
    source: i % 2 === 0 ? 'kernel' : 'os',
    kind: i % 4 === 0 ? 'oom_kill' : 'link_down',
    severity: i % 5 === 0 ? 'error' : 'info',
    message: `line ${i} on ${i % 2 === 0 ? 'nvme0n1' : 'sda'}`,
    attributes: { unit: `u${i % 2}` },
    truncated: false,
  };
}

const stored = Array.from({ length: 240 }, (_, i) => event(i, 'team-a'));
const tailed = Array.from({ length: 20 }, (_, i) => event(240 + i, 'team-a'));
const all = [...stored, ...tailed];

/** What the API answers, as far as these tests read it. */
interface ApiBody {
  status: string;
  errorType?: string;
  error?: string;
  data: { events: { offset: number }[]; nextCursor?: string };
}

let app: FastifyInstance;

beforeAll(async () => {
  const store = new MemoryObjectStore();
  // Segments by partition, hour and a cut of 50 offsets, as the store writes them.
  const cuts = new Map<string, StoredEvent[]>();
  for (const e of stored) {
    const first = Math.floor(e.offset / 50) * 50;
    const origin = { topic: 't', partition: e.partition, firstOffset: first, lastOffset: first + 49 };
    const key = segmentKey(e.tenant, Math.floor(e.time / HOUR) * HOUR, origin);
    cuts.set(key, [...(cuts.get(key) ?? []), e]);
  }
  for (const [key, list] of cuts) {
    const origin = { topic: 't', partition: list[0]?.partition ?? 0, firstOffset: 0, lastOffset: 0 };
    await store.put(key, encodeSegment(list, origin));
  }
  // An event of another tenant, and one the tail repeats from a segment (a cut not yet recorded).
  const other = event(3, 'team-b');
  await store.put(
    segmentKey('team-b', T0, { topic: 't', partition: 1, firstOffset: 3, lastOffset: 3 }),
    encodeSegment([other], { topic: 't', partition: 1, firstOffset: 3, lastOffset: 3 }),
  );
  const tail: EventTail = {
    async read(tenant) {
      return tenant === 'team-a' ? [stored[239] as StoredEvent, ...tailed] : [];
    },
  };
  app = await buildQueryApp({
    engine: new Engine(),
    querierFor: () => {
      throw new Error('no metrics here');
    },
    events: new BucketEventQuerier({ store, tail }),
    now: () => T0 + 5 * HOUR,
  });
});
afterAll(async () => {
  await app.close();
});

async function get(query: Record<string, string>, tenant = 'team-a') {
  const res = await app.inject({
    method: 'GET',
    url: '/api/v1/events',
    query: { start: String(T0 / 1000), end: String((T0 + 5 * HOUR) / 1000), ...query },
    headers: { 'x-scope-orgid': tenant },
  });
  return { status: res.statusCode, body: res.json() as ApiBody };
}

const offsets = (body: ApiBody) => body.data.events.map((e) => e.offset);

describe('GET /api/v1/events', () => {
  it('filters by selector on fields and attributes, newest first, segments and tail merged once', async () => {
    const { status, body } = await get({
      match: '{kind="oom_kill", host=~"db-[01]", unit="u0"}',
      limit: '1000',
    });
    expect(status).toBe(200);
    const want = all
      .filter((e) => e.kind === 'oom_kill' && ['db-0', 'db-1'].includes(e.host) && e.attributes.unit === 'u0')
      .map((e) => e.offset)
      .reverse();
    expect(want.length).toBeGreaterThan(10);
    expect(offsets(body)).toEqual(want);
    expect(body.data.nextCursor).toBeUndefined();
  });

  it('applies text filters: substring, regex, and their negations', async () => {
    const { body } = await get({
      match: '{source="kernel"} |= "nvme0" |~ "line 1[0-9]+ " !~ "line 12"',
      limit: '1000',
      direction: 'forward',
    });
    const want = all
      .filter(
        (e) =>
          e.source === 'kernel' &&
          e.message.includes('nvme0') &&
          /line 1[0-9]+ /.test(e.message) &&
          !/line 12/.test(e.message),
      )
      .map((e) => e.offset);
    expect(want.length).toBeGreaterThan(5);
    expect(offsets(body)).toEqual(want);
    const none = await get({ match: '!= "line"' });
    expect(none.body.data.events).toEqual([]);
  });

  it('pages with a cursor in both directions, every event once', async () => {
    for (const direction of ['forward', 'backward']) {
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const { body } = await get({ limit: '37', direction, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...offsets(body));
        cursor = body.data.nextCursor;
        pages++;
      } while (cursor !== undefined && pages < 50);
      const want = all.map((e) => e.offset);
      expect(seen).toEqual(direction === 'forward' ? want : [...want].reverse());
    }
  });

  it('keeps tenants apart and narrows by the window', async () => {
    const other = await get({}, 'team-b');
    expect(offsets(other.body)).toEqual([3]);
    const narrow = await get({
      start: String((T0 + HOUR) / 1000),
      end: String((T0 + HOUR + 10 * 60_000) / 1000),
      direction: 'forward',
    });
    expect(offsets(narrow.body)).toEqual([60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70]);
  });

  it('answers a malformed selector, regex, filter or parameter with a 400 in Prometheus format', async () => {
    for (const query of [
      { match: '{kind="oom_kill"' },
      { match: '{kind=~"("}' },
      { match: '{kind="a"} |~ "(unclosed"' },
      { match: '{kind="a"} |= nvme0' },
      { match: '{kind="a"} ?? "x"' },
      { direction: 'sideways' },
      { cursor: 'garbage' },
      { limit: '-1' },
      { start: 'yesterday' },
    ] as Record<string, string>[]) {
      const { status, body } = await get(query);
      expect(status, JSON.stringify(query)).toBe(400);
      expect(body).toMatchObject({ status: 'error', errorType: 'bad_data' });
      expect(typeof body.error).toBe('string');
    }
    const badTenant = await get({}, '_promstream');
    expect(badTenant.status).toBe(400);
  });
});
