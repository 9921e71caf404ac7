import { MockClient } from '@confluentinc/schemaregistry';
import { registerZstdCodec } from '@promstream/log';
import { type Event, RecordSerde, type SampleBatch, schemaJson } from '@promstream/schemas';
import kafkajs from 'kafkajs';

/**
 * Serdes over the registry client's in-memory registry, for suites that
 * test the log path and not the registry (the registry has its own suite).
 */
export function memorySerdes(): { sampleBatch: RecordSerde<SampleBatch>; event: RecordSerde<Event> } {
  const client = new MockClient({ baseURLs: ['mock://ingest-tests'] });
  return {
    sampleBatch: new RecordSerde<SampleBatch>(client, schemaJson('sampleBatch')),
    event: new RecordSerde<Event>(client, schemaJson('event')),
  };
}

/** A record read back from the log. */
export interface ReadRecord {
  partition: number;
  offset: string;
  key: Buffer;
  value: Buffer;
}

/**
 * Reads a topic from the beginning until `done` says enough (or the timeout
 * passes) and returns every record seen.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  done: (records: ReadRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  registerZstdCodec();
  const kafka = new kafkajs.Kafka({
    brokers,
    clientId: 'ingest-test-reader',
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `ingest-test-${topic}-${Date.now()}` });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => resolve(), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            records.push({ partition, offset: message.offset, key: message.key!, value: message.value! });
            if (done(records)) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
