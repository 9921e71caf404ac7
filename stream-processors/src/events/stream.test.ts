import { randomUUID } from 'node:crypto';
import { createLogClient } from '@promstream/log';
import { buildQueryApp, Engine, LogEventStream } from '@promstream/query';
import { createSerdes, type RunningRegistry, startRegistry } from '@promstream/schemas';
import { announceSkip, freePort, realKafka } from '@promstream/testkit';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testEvent } from '../../test/events.js';

// GET /api/v1/events/stream on Apache Kafka: new events arrive within a
// second of the log's acknowledgement, a reconnect with Last-Event-ID
// resumes with no gap and no repeat, a slow subscriber is cut off with why.

const kafka = realKafka();
if (!kafka.ok) announceSkip('events stream on Kafka', kafka.reason);

interface Frame {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads SSE frames from a response body until `until` says stop or the body ends. */
async function readFrames(body: ReadableStream<Uint8Array>, onFrame: (f: Frame) => boolean): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    text += decoder.decode(value, { stream: true });
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const f: Frame = {};
      for (const line of text.slice(0, end).split('\n')) {
        const i = line.indexOf(': ');
        if (line.startsWith(':') || i < 0) continue;
        f[line.slice(0, i) as keyof Frame] = line.slice(i + 2);
      }
      text = text.slice(end + 2);
      if (f.id !== undefined || f.data !== undefined || f.event !== undefined) {
        if (!onFrame(f)) {
          await reader.cancel();
          return;
        }
      }
      end = text.indexOf('\n\n');
    }
  }
}

describe.skipIf(!kafka.ok)('events stream on Apache Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const topic = `evstream-${randomUUID()}`;
  const schemasTopic = `_schemas-evstream-${randomUUID()}`;
  const client = new Kafka({ clientId: 'evstream', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer();
  const logClient = createLogClient({ clientId: 'evstream-query', brokers });
  const T0 = Date.UTC(2026, 11, 4);
  let registry: RunningRegistry;
  let app: FastifyInstance;
  let url: string;
  let slowApp: FastifyInstance;
  let slowUrl: string;
  let seq = 0;

  beforeAll(async () => {
    registry = await startRegistry({ brokers, port: await freePort(), topic: schemasTopic });
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await producer.connect();
    const serdes = createSerdes({ registryUrl: registry.url });
    const stream = new LogEventStream({
      client: logClient,
      topic,
      decode: (v) => serdes.event.deserialize(topic, v),
      defaultTenant: 'anonymous',
    });
    const common = {
      engine: new Engine(),
      querierFor: () => Promise.reject(new Error('no metrics')),
      eventStream: stream,
    };
    app = await buildQueryApp(common);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    slowApp = await buildQueryApp({ ...common, eventStreamMaxUnreadBytes: 1 });
    slowUrl = await slowApp.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await slowApp?.close();
    await logClient.close();
    await producer.disconnect();
    await registry?.close();
    await admin.deleteTopics({ topics: [topic, schemasTopic] }).catch(() => {});
    await admin.disconnect();
  });

  /** Publishes `n` oom_kill events of team-a (and as many others that the filter drops); returns their seqs and ack time. */
  async function publish(n: number): Promise<{ seqs: number[]; acked: number }> {
    const serdes = createSerdes({ registryUrl: registry.url });
    const messages = [];
    const seqs = [];
    for (let k = 0; k < n; k++) {
      const wanted = {
        ...testEvent(seq, T0),
        kind: 'oom_kill',
        attributes: { seq: String(seq), tenant: 'team-a' },
      };
      const other = {
        ...testEvent(seq + 1, T0),
        kind: 'link_down',
        attributes: { seq: String(seq + 1), tenant: 'team-a' },
      };
      seqs.push(seq);
      seq += 2;
      for (const e of [wanted, other])
        messages.push({ key: e.host, value: await serdes.event.serialize(topic, e) });
    }
    await producer.send({ topic, acks: -1, messages });
    return { seqs, acked: Date.now() };
  }

  function open(base: string, lastEventId?: string, signal?: AbortSignal) {
    return fetch(`${base}/api/v1/events/stream?match=${encodeURIComponent('{kind="oom_kill"}')}`, {
      headers: {
        'x-scope-orgid': 'team-a',
        ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
      },
      signal,
    });
  }

  test('delivers new events within a second, and resumes from Last-Event-ID with no gap and no repeat', async () => {
    const res = await open(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    // The subscription starts at the high watermark; give the consumer a moment to be placed there.
    await new Promise((r) => setTimeout(r, 1500));
    const first = await publish(10);
    const got: number[] = [];
    let lastId = '';
    let latest = 0;
    await readFrames(res.body as ReadableStream<Uint8Array>, (f) => {
      if (f.id !== undefined) lastId = f.id;
      if (f.data === undefined) return true;
      got.push(Number((JSON.parse(f.data) as { attributes: { seq: string } }).attributes.seq));
      latest = Date.now() - first.acked;
      return got.length < 6;
    });
    // Partitions are delivered side by side: any 6 of the 10, each once.
    expect(new Set(got).size).toBe(6);
    expect(got.every((x) => first.seqs.includes(x))).toBe(true);
    expect(latest).toBeLessThan(1000);
    expect(lastId).toMatch(/^\d+:\d+(,\d+:\d+)*$/);

    const second = await publish(5);
    const resumed = await open(url, lastId);
    const rest: number[] = [];
    await readFrames(resumed.body as ReadableStream<Uint8Array>, (f) => {
      if (f.data !== undefined)
        rest.push(Number((JSON.parse(f.data) as { attributes: { seq: string } }).attributes.seq));
      return rest.length < 9;
    });
    expect([...got, ...rest].sort((a, b) => a - b)).toEqual([...first.seqs, ...second.seqs]);
  });

  test('cuts a subscriber off with a reason once too much is unread, and answers a bad selector with a 400', async () => {
    const res = await open(slowUrl, '0:0,1:0');
    const frames: Frame[] = [];
    await readFrames(res.body as ReadableStream<Uint8Array>, (f) => {
      frames.push(f);
      return f.event !== 'error';
    });
    const error = frames.at(-1);
    expect(error?.event).toBe('error');
    expect(JSON.parse(error?.data ?? '{}').reason).toMatch(/subscriber too slow/);

    const bad = await fetch(`${url}/api/v1/events/stream?match=${encodeURIComponent('{kind=~"("}')}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    const badId = await open(url, 'yesterday');
    expect(badId.status).toBe(400);
  });
});
