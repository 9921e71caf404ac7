import { randomUUID } from 'node:crypto';
import { announceSkip, realKafka } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportLog } from './export-log.js';

const kafka = realKafka();
if (!kafka.ok) announceSkip('export to another Kafka topic', kafka.reason);

// Recent record times: the broker's retention (7 days by default) deletes segments of older records.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const PER_PARTITION = 40;

interface Rec {
  key: string;
  value: string;
  header: string;
  timestamp: string;
}

/** Every record of a topic, per partition in offset order. */
async function readTopic(client: Kafka, topic: string, expected: number): Promise<Map<number, Rec[]>> {
  const consumer = client.consumer({ groupId: `read-${randomUUID()}` });
  const out = new Map<number, Rec[]>();
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${seen} of ${expected} records of ${topic}`)),
      30_000,
    );
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const list = out.get(partition) ?? [];
        list.push({
          key: message.key!.toString(),
          value: message.value!.toString(),
          header: String(message.headers?.h),
          timestamp: message.timestamp,
        });
        out.set(partition, list);
        if (++seen === expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

describe.skipIf(!kafka.ok)('export the log to another topic on real Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const client = new Kafka({ clientId: 'export-test', brokers, logLevel: logLevel.NOTHING });
  const topic = `migrate-src-${randomUUID()}`;
  const admin = client.admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = client.producer();
    await producer.connect();
    const messages = [];
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < PER_PARTITION; i++) {
        messages.push({
          partition: p,
          key: `k${p}`,
          value: `v${p}-${i}`,
          headers: { h: `h${i}` },
          timestamp: String(T0 + i * 1000),
        });
      }
    }
    await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  it('copies every record with key, value, headers, timestamp and partition', async () => {
    const toTopic = `migrate-dst-${randomUUID()}`;
    const seen: number[] = [];
    const r = await exportLog({
      brokers,
      toBrokers: brokers,
      topic,
      toTopic,
      onProgress: (p) => seen.push(p.records),
    });
    expect(r.records).toBe(3 * PER_PARTITION);
    expect(r.next).toEqual({ 0: PER_PARTITION, 1: PER_PARTITION, 2: PER_PARTITION });
    expect(seen[seen.length - 1]).toBe(3 * PER_PARTITION);
    const want = await readTopic(client, topic, 3 * PER_PARTITION);
    const got = await readTopic(client, toTopic, 3 * PER_PARTITION);
    expect(got).toEqual(want);
  });

  it('copies only a time range, and resumes from the offsets it returned', async () => {
    const toTopic = `migrate-dst-${randomUUID()}`;
    const first = await exportLog({
      brokers,
      toBrokers: brokers,
      topic,
      toTopic,
      from: { time: T0 + 10_000 },
      to: { time: T0 + 20_000 },
    });
    expect(first.records).toBe(3 * 10);
    expect(first.next).toEqual({ 0: 20, 1: 20, 2: 20 });
    // Resume from offset 20 to the end: the rest of every partition.
    const rest = await exportLog({ brokers, toBrokers: brokers, topic, toTopic, from: { offset: 20 } });
    expect(rest.records).toBe(3 * (PER_PARTITION - 20));
    const got = await readTopic(client, toTopic, 3 * (PER_PARTITION - 10));
    for (let p = 0; p < 3; p++) {
      expect(got.get(p)!.map((m) => m.value)).toEqual(
        Array.from({ length: PER_PARTITION - 10 }, (_, i) => `v${p}-${i + 10}`),
      );
      expect(got.get(p)![0]!.timestamp).toBe(String(T0 + 10_000));
    }
  });
});
