import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { buildBatch, produceRaw, RawClient } from './raw-client.js';

describe('embedded broker with kafkajs', () => {
  let dir: string;
  let broker: RunningBroker;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'broker-smoke-'));
    broker = await startBroker({ dataDir: dir, logger: pino({ level: 'silent' }), metricsPort: 0 });
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('produces and consumes in order', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic: 'smoke', acks: -1, messages: [{ key: `k${i}`, value: `v${i}` }] });
    }
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'smoke-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'smoke', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(String(message.value));
          if (seen.length === 10) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
  });

  it('serves Prometheus metrics that count the traffic', async () => {
    const res = await fetch(`http://127.0.0.1:${broker.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/promstream_broker_requests_total\{api="Produce",version="\d+"\} 10\b/);
    expect(text).toMatch(/promstream_broker_produced_records_total 10\b/);
  });

  it('keeps every byte of large batches sent at once over several connections (request buffers are reused)', async () => {
    const topic = 'reused-buffers';
    const broker0 = `127.0.0.1:${broker.port}`;
    const kafka = new Kafka({ brokers: [broker0], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();
    const expected: string[] = [];
    // Four connections, twelve batches of ~200 KB each, acks=all and acks=1 mixed, all in flight together.
    await Promise.all(
      Array.from({ length: 4 }, async (_, conn) => {
        const c = await RawClient.connect(broker0);
        for (let i = 0; i < 12; i++) {
          const values = Array.from({ length: 200 }, (_, j) =>
            `${conn}/${i}/${j}/`.padEnd(1000, String.fromCharCode(97 + ((conn + i + j) % 26))),
          );
          const res = await produceRaw(c, topic, (conn + i) % 2, buildBatch(values), conn % 2 === 0 ? -1 : 1);
          expect(res.errorCode).toBe(0);
          expected.push(...values);
        }
        c.close();
      }),
    );
    const consumer = kafka.consumer({ groupId: 'reused-buffers' });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(String(message.value));
          if (seen.length === expected.length) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(seen.sort()).toEqual(expected.sort());
  });

  it('releases a produce request only once its batches are written', async () => {
    const topic = 'release-after-write';
    const admin = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic }] });
    await admin.disconnect();
    for (const acks of [-1, 1, 0]) {
      const w = new Writer();
      w.nullableString(null).int16(acks).int32(10_000);
      w.int32(1)
        .string(topic)
        .int32(1)
        .int32(0)
        .bytes(buildBatch(['a'.repeat(300_000), 'b']));
      let written: number | null = null;
      const before = broker.broker.topics.partition(topic, 0)?.nextOffset ?? 0;
      const release = () => {
        written = broker.broker.topics.partition(topic, 0)?.readableOffset ?? -1;
      };
      await broker.broker.handle(
        { apiKey: 0, apiVersion: 7, clientId: 'test', clientHost: '127.0.0.1', release },
        new Reader(Buffer.concat(w.finish())),
      );
      // Both records were readable, so written to the file, when the request's bytes were let go.
      expect(written).toBe(before + 2);
    }
  });

  it('refuses a segment.bytes the index cannot address', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await expect(
      admin.createTopics({
        topics: [
          { topic: 'huge-segments', configEntries: [{ name: 'segment.bytes', value: String(2 ** 33) }] },
        ],
      }),
    ).rejects.toThrow();
    await admin.disconnect();
  });

  it('does not create topics on first use when auto-creation is off', async () => {
    const dir2 = mkdtempSync(path.join(tmpdir(), 'broker-noauto-'));
    const strict = await startBroker({
      dataDir: dir2,
      logger: pino({ level: 'silent' }),
      autoCreateTopics: false,
    });
    try {
      const kafka = new Kafka({
        brokers: [`127.0.0.1:${strict.port}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 1 },
      });
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      await expect(producer.send({ topic: 'never-made', messages: [{ value: 'x' }] })).rejects.toThrow();
      await producer.disconnect();
      expect(strict.broker.topics.topics.has('never-made')).toBe(false);
    } finally {
      await strict.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
