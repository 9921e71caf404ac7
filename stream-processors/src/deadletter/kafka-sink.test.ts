import type { LogClient, LogProducer, LogRecord } from '@promstream/log';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KafkaDeadLetterSink } from './kafka-sink.js';
import type { DeadLetter } from './seams.js';

/** A producer whose sends to one topic hang until released, as a missing topic makes kafkajs retry. */
function stalledProducer(stalledTopic: string) {
  const sent: Array<{ topic: string; records: readonly LogRecord[] }> = [];
  let release: () => void = () => {};
  const stalled = new Promise<void>((resolve) => {
    release = resolve;
  });
  const producer: LogProducer = {
    send: async (topic, records) => {
      if (topic === stalledTopic) await stalled;
      sent.push({ topic, records });
    },
    partitions: async () => 1,
    close: async () => {},
  };
  const client = { producer: () => producer } as unknown as LogClient;
  return { client, sent, release: () => release() };
}

const letter: DeadLetter = {
  key: null,
  value: Buffer.from('bad'),
  headers: {},
  info: {
    topic: 'promstream.samples.v1',
    partition: 0,
    offset: 7,
    timestamp: 1,
    processor: 'block-builder',
    reason: 'bad_record',
    message: 'does not decode',
    deadLetteredAt: 2,
    attempts: 1,
  },
};

describe('KafkaDeadLetterSink', () => {
  it('answers once the letter is written, without waiting for its report on the events topic', async () => {
    const { client, sent, release } = stalledProducer('events');
    const sink = new KafkaDeadLetterSink({
      client,
      topic: 'dlq',
      events: { topic: 'events', serialize: async () => Buffer.from('event') },
      logger: pino({ level: 'silent' }),
    });
    const answered = await Promise.race([
      sink.send([letter]).then(() => 'answered'),
      new Promise((r) => setTimeout(() => r('held'), 1000)),
    ]);
    expect(answered).toBe('answered');
    expect(sent.map((s) => s.topic)).toEqual(['dlq']);
    // Closing waits for the pending report.
    const closed = sink.close();
    release();
    await closed;
    expect(sent.map((s) => s.topic)).toEqual(['dlq', 'events']);
  });
});
