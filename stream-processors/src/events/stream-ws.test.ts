import { randomUUID } from 'node:crypto';
import { createLogClient } from '@promstream/log';
import { buildQueryApp, Engine, LogEventStream } from '@promstream/query';
import { createSerdes, type RunningRegistry, startRegistry } from '@promstream/schemas';
import { announceSkip, freePort, realKafka } from '@promstream/testkit';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { testEvent } from '../../test/events.js';

// The WebSocket on GET /api/v1/events/stream on Apache Kafka: the same
// selector, ids and resume as the SSE stream; a bad selector is refused
// before the upgrade; a slow subscriber is closed with a code and reason.

const kafka = realKafka();
if (!kafka.ok) announceSkip('events stream WebSocket on Kafka', kafka.reason);

interface Message {
  id: string;
  event?: { kind: string; attributes: Record<string, string> };
}

interface Ended {
  code: number;
  reason: string;
}

/**
 * Opens a socket and hands each message to `onMessage` until it says stop
 * or the server closes; `onOpen` may pause the socket to play a slow reader.
 */
function read(
  url: string,
  onMessage: (m: Message) => boolean,
  onOpen?: (ws: WebSocket) => void,
): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { 'x-scope-orgid': 'team-a' } });
    let done = false;
    ws.on('open', () => onOpen?.(ws));
    ws.on('message', (data) => {
      // Frames already on their way after a close are not handed on.
      if (done) return;
      if (!onMessage(JSON.parse(String(data)) as Message)) {
        done = true;
        ws.close(1000);
      }
    });
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe.skipIf(!kafka.ok)('events stream WebSocket on Apache Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const topic = `evstream-ws-${randomUUID()}`;
  const schemasTopic = `_schemas-evstream-ws-${randomUUID()}`;
  const client = new Kafka({ clientId: 'evstream-ws', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer();
  const logClient = createLogClient({ clientId: 'evstream-ws-query', brokers });
  const T0 = Date.UTC(2026, 11, 4);
  const match = encodeURIComponent('{kind="oom_kill"}');
  let registry: RunningRegistry;
  let app: FastifyInstance;
  let base: string;
  let slowApp: FastifyInstance;
  let slowBase: string;
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
    base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
    slowApp = await buildQueryApp({ ...common, eventStreamMaxUnreadBytes: 256 * 1024 });
    slowBase = (await slowApp.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
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

  /** Publishes `n` oom_kill events of team-a, each followed by one the filter drops; returns their seqs. */
  async function publish(n: number): Promise<number[]> {
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
    return seqs;
  }

  test('delivers matching events with their ids, and resumes with ?from= with no gap and no repeat', async () => {
    const got: number[] = [];
    let lastId = '';
    let first: number[] = [];
    const ended = await read(
      `${base}/api/v1/events/stream?match=${match}`,
      (m) => {
        lastId = m.id;
        if (m.event === undefined) return true;
        expect(m.event.kind).toBe('oom_kill');
        got.push(Number(m.event.attributes.seq));
        return got.length < 6;
      },
      // The subscription starts at the high watermark; give the consumer a moment to be placed there.
      () => void setTimeout(() => void publish(10).then((s) => (first = s)), 1500),
    );
    expect(ended.code).toBe(1000);
    expect(new Set(got).size).toBe(6);
    expect(got.every((x) => first.includes(x))).toBe(true);
    expect(lastId).toMatch(/^\d+:\d+(,\d+:\d+)*$/);

    const second = await publish(5);
    const rest: number[] = [];
    await read(`${base}/api/v1/events/stream?match=${match}&from=${encodeURIComponent(lastId)}`, (m) => {
      if (m.event !== undefined) rest.push(Number(m.event.attributes.seq));
      return rest.length < 9;
    });
    expect([...got, ...rest].sort((a, b) => a - b)).toEqual([...first, ...second]);
  });

  test('refuses a bad selector or position with a 400 before the upgrade', async () => {
    const bad = `${base}/api/v1/events/stream?match=${encodeURIComponent('{kind=~"("}')}`;
    await expect(read(bad, () => true)).rejects.toThrow('status 400');
    await expect(read(`${base}/api/v1/events/stream?from=yesterday`, () => true)).rejects.toThrow(
      'status 400',
    );
  });

  test('closes a subscriber that leaves too much unread with code 1008 and the reason', async () => {
    // A reader that stops reading: once the socket buffers between the two are full, bytes wait on the server.
    const big = 'x'.repeat(16_000);
    for (let b = 0; b < 24; b++) {
      const messages = [];
      for (let k = 0; k < 25; k++) {
        const e = {
          ...testEvent(seq, T0),
          message: big,
          attributes: { seq: String(seq++), tenant: 'team-a' },
        };
        messages.push({
          key: e.host,
          value: await createSerdes({ registryUrl: registry.url }).event.serialize(topic, e),
        });
      }
      await producer.send({ topic, acks: -1, messages });
    }
    const ended = await read(
      `${slowBase}/api/v1/events/stream?from=beginning`,
      () => true,
      (ws) => {
        ws.pause();
        // Reading again later lets the close frame, queued behind the unread bytes, arrive.
        setTimeout(() => ws.resume(), 5000);
      },
    );
    expect(ended.code).toBe(1008);
    expect(ended.reason).toMatch(/subscriber too slow/);
  });
});
