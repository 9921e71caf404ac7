import { randomUUID } from 'node:crypto';
import { announceSkip, realKafka } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, test } from 'vitest';

const kafka = realKafka();
if (!kafka.ok) announceSkip('kafkajs smoke test on Apache Kafka', kafka.reason);

describe.skipIf(!kafka.ok)('kafkajs against the real Kafka', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const client = new Kafka({ clientId: 'promstream-smoke', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer({ idempotent: true });
  const topic = `smoke-${randomUUID()}`;

  afterAll(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });

  test('produces with acks=all and consumes the same records in order', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await producer.connect();
    const values = Array.from({ length: 100 }, (_, i) => `record-${i}`);
    await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: String(i), value })) });

    const consumer = client.consumer({ groupId: `smoke-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.length} records consumed`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value?.toString() ?? '');
          if (seen.length === values.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(seen).toEqual(values);

    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets[0]?.high).toBe('100');
  });
});
