import { randomUUID } from 'node:crypto';
import { newMatcher, ValueType } from '@promstream/storage';
import { announceSkip, realKafka } from '@promstream/testkit';
import Fastify from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import type { Querier } from '../querier.js';
import { HeadStore } from './head-store.js';
import { LogHead, readConsistencyHook } from './log-head.js';

const up = [
  { name: '__name__', value: 'up' },
  { name: 'job', value: 'a' },
];

async function read(
  q: Querier,
  mint = -Infinity,
  maxt = Infinity,
): Promise<Record<string, [number, number][]>> {
  const out: Record<string, [number, number][]> = {};
  for (const s of await q.select({ mint, maxt }, [newMatcher('=~', '__name__', '.+')])) {
    const it = s.iterator();
    const pts: [number, number][] = [];
    while (it.next() === ValueType.Float) pts.push([it.atT(), it.at()]);
    out[s.labels.map((l) => l.value).join(',')] = pts;
  }
  return out;
}

describe('HeadStore', () => {
  test('keeps series sorted, the first sample of a timestamp, and drops what blocks cover', async () => {
    const head = new HeadStore();
    head.append(0, 't', up, [10, 30], [1, 3], -Infinity);
    head.append(0, 't', up, [20, 30], [2, 9], -Infinity);
    head.append(1, 't', [{ name: '__name__', value: 'x' }], [5], [5], 6);
    const q = head.querier('t');
    const before = await q.select({ mint: 0, maxt: 100 }, [newMatcher('=', 'job', 'a')]);
    expect(await read(q)).toEqual({
      'up,a': [
        [10, 1],
        [20, 2],
        [30, 3],
      ],
    });
    head.truncate(0, 25);
    expect(await read(q)).toEqual({ 'up,a': [[30, 3]] });
    // A selection made before the truncation still reads its snapshot.
    const it = before[0]!.iterator();
    expect(it.seek(15)).toBe(ValueType.Float);
    expect(it.atT()).toBe(20);
    expect(await head.querier('other').labelNames({ mint: 0, maxt: 100 }, [])).toEqual([]);
    expect(await q.labelValues({ mint: 0, maxt: 100 }, 'job', [])).toEqual(['a']);
  });
});

const kafka = realKafka();
if (!kafka.ok) announceSkip('query head on Kafka', kafka.reason);

describe.skipIf(!kafka.ok)('LogHead on the real Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const client = new Kafka({ clientId: 'head-test', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer();
  const topic = `head-test-${randomUUID()}`;
  const marks = new Map<number, { boundary: number; nextOffset: number }>();
  let head: LogHead | undefined;

  afterAll(async () => {
    await head?.stop();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  // Records stamped with their last sample's time, as the gateway stamps them at ingest.
  const T0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
  const record = (dt: number[]) => ({
    partition: 0,
    timestamp: String(T0 + dt[dt.length - 1]!),
    value: JSON.stringify({
      tenant: 't',
      series: [{ labels: up, t: dt.map((x) => T0 + x), v: dt.map((x) => x / 10) }],
    }),
  });
  const at = (pts: [number, number][]) => pts.map(([t, v]) => [T0 + t, v]);

  test('starts at the block watermark, reads after write, and drops what new blocks cover', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [record([10, 20]), record([30]), record([40, 50])] });
    // A block holds offsets 0 and 1 (times before 35).
    marks.set(0, { boundary: T0 + 35, nextOffset: 2 });
    head = new LogHead({
      brokers,
      topic,
      logger: pino({ level: 'silent' }),
      refreshMs: 60_000,
      decoder: { decode: async (value) => JSON.parse(value.toString()) },
      watermarks: { load: async (_topic, partition) => marks.get(partition) },
      rules: { blockDuration: 1000, outOfOrderWindow: 1000, futureGrace: 600_000, backfillIdle: 60_000 },
    });
    await head.start();
    await head.waitForLatest(20_000);
    expect(await read(head.querier('t'))).toEqual({
      'up,a': at([
        [40, 4],
        [50, 5],
      ]),
    });

    // Strong reads see a write acknowledged just before them.
    const app = Fastify();
    app.addHook('onRequest', readConsistencyHook(head, 10_000));
    app.get('/q', async () => read(head!.querier('t')));
    await producer.send({ topic, acks: -1, messages: [record([60])] });
    const res = await app.inject({ url: '/q', headers: { 'x-read-consistency': 'strong' } });
    expect(res.json()).toEqual({
      'up,a': at([
        [40, 4],
        [50, 5],
        [60, 6],
      ]),
    });

    marks.set(0, { boundary: T0 + 55, nextOffset: 4 });
    await head.refresh();
    expect(await read(head.querier('t'))).toEqual({ 'up,a': at([[60, 6]]) });

    // A head that cannot catch up answers 503 in Prometheus' error format.
    const slow = readConsistencyHook(
      {
        waitForLatest: async () => {
          throw new (await import('../api/errors.js')).ApiError('unavailable', 'behind');
        },
      },
      1,
    );
    const app2 = Fastify();
    app2.addHook('onRequest', slow);
    app2.get('/q', async () => 'ok');
    const late = await app2.inject({ url: '/q', headers: { 'x-read-consistency': 'strong' } });
    expect(late.statusCode).toBe(503);
    expect(late.json()).toEqual({ status: 'error', errorType: 'unavailable', error: 'behind' });
    await app.close();
    await app2.close();
  });

  test('keeps what new blocks hold for holdMs, until the block list can show them', async () => {
    let now = 1_000_000;
    const held = new LogHead({
      brokers,
      topic,
      logger: pino({ level: 'silent' }),
      refreshMs: 60_000,
      holdMs: 30_000,
      now: () => now,
      decoder: { decode: async (value) => JSON.parse(value.toString()) },
      watermarks: { load: async (_topic, partition) => marks.get(partition) },
      rules: { blockDuration: 1000, outOfOrderWindow: 1000, futureGrace: 600_000, backfillIdle: 60_000 },
    });
    marks.set(0, { boundary: T0 + 35, nextOffset: 2 });
    await held.start();
    try {
      await held.waitForLatest(20_000);
      const before = await read(held.querier('t'));
      expect(before['up,a']!.length).toBe(3);
      marks.set(0, { boundary: T0 + 55, nextOffset: 4 });
      await held.refresh();
      now += 29_999;
      await held.refresh();
      expect(await read(held.querier('t'))).toEqual(before);
      now += 1;
      await held.refresh();
      expect(await read(held.querier('t'))).toEqual({ 'up,a': at([[60, 6]]) });
    } finally {
      await held.stop();
    }
  });
});
