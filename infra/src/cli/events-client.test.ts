import { BucketEventQuerier, buildQueryApp, Engine, type EventStreamSource } from '@promstream/query';
import { encodeSegment, MemoryObjectStore, type StoredEvent, segmentKey } from '@promstream/storage';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { queryEvents, tailEvents } from './events-client.js';

// The `promstream events` client against the query tier's real events API,
// over a memory bucket of segments and a stream source held in memory.

const T0 = Date.UTC(2026, 11, 2, 10);

function event(i: number): StoredEvent {
  return {
    tenant: 'team-a',
    partition: 0,
    offset: i,
    time: T0 + i * 1000,
    host: `h${i % 3}`,
    source: 'kernel',
    kind: i % 2 === 0 ? 'oom_kill' : 'segfault',
    severity: 'error',
    message: `m${i}`,
    attributes: {},
    truncated: false,
  };
}

let app: FastifyInstance;
let url: string;
let subscribedFrom: unknown;

beforeAll(async () => {
  const store = new MemoryObjectStore();
  const events = Array.from({ length: 120 }, (_, i) => event(i));
  const origin = { topic: 't', partition: 0, firstOffset: 0, lastOffset: 119 };
  await store.put(segmentKey('team-a', T0, origin), encodeSegment(events, origin));
  const stream: EventStreamSource = {
    async subscribe(_tenant, from, handler) {
      subscribedFrom = from;
      setTimeout(() => void handler([event(200), event(201), event(202)], new Map([[0, 203]])), 10);
      return { close: async () => {} };
    },
  };
  app = await buildQueryApp({
    engine: new Engine(),
    querierFor: () => Promise.reject(new Error('no metrics')),
    events: new BucketEventQuerier({ store }),
    eventStream: stream,
    now: () => T0 + 3_600_000,
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
});

describe('promstream events', () => {
  test('query prints every page of the window as JSON lines, up to the limit', async () => {
    const lines: string[] = [];
    const n = await queryEvents({
      url,
      tenant: 'team-a',
      match: '{kind="oom_kill"}',
      limit: 0,
      direction: 'forward',
      start: String(T0 / 1000),
      write: (l) => lines.push(l),
    });
    expect(n).toBe(60);
    expect(lines.map((l) => JSON.parse(l).offset)).toEqual(Array.from({ length: 60 }, (_, i) => i * 2));
    const few: string[] = [];
    await queryEvents({
      url,
      tenant: 'team-a',
      limit: 7,
      start: String(T0 / 1000),
      write: (l) => few.push(l),
    });
    expect(few.map((l) => JSON.parse(l).offset)).toEqual([119, 118, 117, 116, 115, 114, 113]);
  });

  test('query reports the API error of a bad selector', async () => {
    await expect(
      queryEvents({ url, tenant: 'team-a', match: '{kind=', limit: 1, write: () => {} }),
    ).rejects.toThrow(/events API answered 400: invalid parameter "match"/);
  });

  test('tail prints the stream filtered, from the beginning when asked', async () => {
    const lines: string[] = [];
    const abort = new AbortController();
    await tailEvents({
      url,
      tenant: 'team-a',
      match: '{kind="oom_kill"}',
      from: 'beginning',
      signal: abort.signal,
      write: (l) => {
        lines.push(l);
        if (lines.length === 2) abort.abort();
      },
    }).catch((err: Error) => {
      if (err.name !== 'AbortError') throw err;
    });
    expect(subscribedFrom).toBe('beginning');
    expect(lines.map((l) => JSON.parse(l).offset)).toEqual([200, 202]);
  });
});
