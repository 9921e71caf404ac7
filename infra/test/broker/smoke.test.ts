import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../src/broker/index.js';

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
    expect(text).toMatch(/promstream_broker_requests_total\{api="Produce"\} 10\b/);
    expect(text).toMatch(/promstream_broker_produced_records_total 10\b/);
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
