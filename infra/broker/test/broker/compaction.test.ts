import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker, zstdCodec } from '../../src/index.js';

CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec();

describe('log compaction on the embedded broker', () => {
  let dir: string;
  let broker: RunningBroker;
  let kafka: Kafka;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'broker-compact-'));
    broker = await startBroker({
      dataDir: dir,
      logger: pino({ level: 'silent' }),
      retentionCheckMs: 3_600_000,
    });
    kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function readAll(
    topic: string,
    want: number,
  ): Promise<Array<{ offset: number; key: string; value: string | null }>> {
    const consumer = kafka.consumer({ groupId: `read-${Math.random()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const out: Array<{ offset: number; key: string; value: string | null }> = [];
    const end = Number((await broker.broker.topics.partition(topic, 0))?.nextOffset ?? 0);
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          out.push({
            offset: Number(message.offset),
            key: String(message.key),
            value: message.value === null ? null : String(message.value),
          });
          if (Number(message.offset) === end - 1 || out.length >= want) resolve();
        },
      });
    });
    await consumer.disconnect();
    return out;
  }

  it('keeps only the newest record per key in closed segments, with offsets unchanged, and drops old tombstones', async () => {
    const topic = 'compact-me';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '2048' },
            { name: 'delete.retention.ms', value: '0' },
          ],
        },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const offsets = new Map<string, number>(); // value -> offset it got
    for (let round = 0; round < 8; round++) {
      for (let k = 0; k < 5; k++) {
        const value = `k${k}-round${round}`;
        // Alternate codecs: compaction must read compressed batches too.
        const compression = round % 2 === 0 ? CompressionTypes.ZSTD : CompressionTypes.GZIP;
        const [meta] = await producer.send({
          topic,
          acks: -1,
          compression,
          messages: [{ key: `k${k}`, value }],
        });
        offsets.set(value, Number(meta?.baseOffset));
      }
    }
    // k0 is deleted early: its tombstone lands in a closed segment.
    await producer.send({ topic, acks: -1, messages: [{ key: 'k0', value: null }] });
    for (let i = 0; i < 30; i++)
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: 'filler', value: `f${i}-${'z'.repeat(100)}` }],
      });
    await producer.disconnect();
    const log = broker.broker.topics.partition(topic, 0);
    expect(log).not.toBeNull();
    const produced = log?.nextOffset ?? 0;
    const before = await readAll(topic, produced);
    expect(before.length).toBe(produced);

    broker.broker.enforceRetention();
    const activeBase = log?.activeSegment.baseOffset ?? 0;
    expect(activeBase).toBeGreaterThan(41);
    const after = await readAll(topic, produced);
    expect(after.length).toBeLessThan(before.length);
    // Every surviving record keeps its offset.
    for (const r of after)
      if (r.value !== null && offsets.has(r.value)) expect(r.offset).toBe(offsets.get(r.value));
    // In the closed segments, no key appears twice and k0 is gone with its tombstone.
    const closed = after.filter((r) => r.offset < activeBase);
    const keys = closed.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).not.toContain('k0');
    for (let k = 1; k < 5; k++) expect(after.find((r) => r.key === `k${k}`)?.value).toBe(`k${k}-round7`);
    // The compacted log survives a restart unchanged.
    const port = broker.port;
    await broker.close();
    broker = await startBroker({ dataDir: dir, logger: pino({ level: 'silent' }), port });
    const reopened = await readAll(topic, after.length);
    expect(reopened.map((r) => r.offset)).toEqual(after.map((r) => r.offset));
  });
});
