import { randomUUID } from 'node:crypto';
import { type DeadLetterInfo, TOPICS } from '@promstream/schemas';
import type { LogBackend } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { suiteBackends } from '../../test/backends.js';
import { blockContents, jsonDecoder, MemorySink, MemoryState } from '../../test/support.js';
import { listDeadLetters } from '../deadletter/tool.js';
import { type BlockBuilder, startBlockBuilder } from './builder.js';

// Records no processor can process, written straight onto the samples topic
// (as a client that bypasses the gateway, or a build before the tenant rule,
// would), between normal records: the builder writes each to the dead-letter
// topic with its headers, counts it, and builds the normal records into the
// same blocks as on a log without them.

const logger = pino({ level: 'silent' });
const T0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;

interface Message {
  partition: number;
  value: string;
  timestamp: string;
  headers?: Record<string, string>;
}

/** Six series, a sample every 100 ms over 6 s, records of 1 s, and a tick at 10 s on each partition. */
function normalRecords(): Message[] {
  const messages: Message[] = [];
  for (let start = 0; start < 6000; start += 1000) {
    for (let i = 0; i < 6; i++) {
      const t = Array.from({ length: 10 }, (_, k) => T0 + start + k * 100);
      messages.push({
        partition: i % 2,
        timestamp: String(t[9]),
        value: JSON.stringify({
          tenant: 'team-a',
          series: [
            {
              labels: [
                { name: '__name__', value: 'm' },
                { name: 's', value: `s${i}` },
              ],
              t,
              v: t.map((x) => (x - T0) / 100),
            },
          ],
        }),
      });
    }
  }
  for (const partition of [0, 1]) {
    messages.push({
      partition,
      timestamp: String(T0 + 10_000),
      value: JSON.stringify({
        tenant: 'team-a',
        series: [{ labels: [{ name: '__name__', value: 'tick' }], t: [T0 + 10_000], v: [1] }],
      }),
    });
  }
  return messages;
}

/** A record of tenant `tenant` with one sample, otherwise well formed. */
function tenantRecord(partition: number, tenant: string, t: number): Message {
  return {
    partition,
    timestamp: String(t),
    headers: { trace: 'poison' },
    value: JSON.stringify({
      tenant,
      series: [{ labels: [{ name: '__name__', value: 'p' }], t: [t], v: [1] }],
    }),
  };
}

for (const backend of suiteBackends('dead letters of the block builder')) {
  describe.skipIf(!backend.enabled)(`poisoned records on ${backend.name}`, () => {
    let log: LogBackend;
    let kafka: Kafka;
    const id = randomUUID();
    const clean = `bbdl-clean-${id}`;
    const poisoned = `bbdl-poison-${id}`;
    const deadLetterTopic = `bbdl-dlq-${id}`;
    const running: BlockBuilder[] = [];
    const poison: { topic: string; partition: number; offset: number; reason: string; value: string }[] = [];

    beforeAll(async () => {
      log = await backend.start();
      kafka = new Kafka({ clientId: 'bbdl-test', brokers: log.brokers, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [clean, poisoned].map((topic) => ({ topic, numPartitions: 2 })),
        waitForLeaders: true,
      });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      const normal = normalRecords();
      await producer.send({ topic: clean, acks: -1, messages: normal });
      // The same records with poison: first on partition 0, and two among the data of partition 1.
      const bad: Message[] = [
        { partition: 0, timestamp: String(T0), value: 'not json', headers: { trace: 'poison' } },
        tenantRecord(0, '.', T0),
      ];
      const mixed: Message[] = [...bad];
      normal.forEach((m, i) => {
        mixed.push(m);
        if (i === 14) mixed.push(tenantRecord(1, '../x', T0 + 2500), tenantRecord(1, 'a/b', T0 + 2500));
      });
      await producer.send({ topic: poisoned, acks: -1, messages: mixed });
      await producer.disconnect();
      const next = [0, 0];
      for (const m of mixed) {
        const offset = next[m.partition]!++;
        const reason =
          m.value === 'not json'
            ? 'bad_record'
            : m.value.includes('"tenant":"team-a"')
              ? ''
              : 'invalid_tenant';
        if (reason !== '')
          poison.push({ topic: poisoned, partition: m.partition, offset, reason, value: m.value });
      }
      expect(poison.length).toBe(4);
    });

    afterAll(async () => {
      for (const b of running) await b.stop().catch(() => {});
      const admin = kafka?.admin();
      await admin?.connect();
      await admin?.deleteTopics({ topics: [clean, poisoned, deadLetterTopic] }).catch(() => {});
      await admin?.disconnect();
      await log?.stop();
    });

    async function build(topic: string, groupId: string, state: MemoryState, sink = new MemorySink()) {
      const builder = await startBlockBuilder({
        brokers: log.brokers,
        topic,
        groupId,
        blockDuration: 1000,
        outOfOrderWindow: 1000,
        decoder: jsonDecoder,
        sink,
        state,
        logger,
        deadLetterTopic,
        retry: { recheckDelayMs: 10 },
      });
      running.push(builder);
      return { builder, sink };
    }

    test('dead-letters each poisoned record with its headers, counts it, and builds the same blocks', async () => {
      const a = await build(clean, `bbdl-${randomUUID()}`, new MemoryState());
      await a.builder.waitForCommit(0, 18, 30_000);
      await a.builder.waitForCommit(1, 18, 30_000);
      await a.builder.stop();

      const b = await build(poisoned, `bbdl-${randomUUID()}`, new MemoryState());
      // The commits move past the poison: 18 + 2 records on partition 0 and 1.
      await b.builder.waitForCommit(0, 20, 30_000);
      await b.builder.waitForCommit(1, 20, 30_000);
      const metrics = await b.builder.registry.getSingleMetricAsString('promstream_deadletter_records_total');
      await b.builder.stop();

      expect(a.sink.blocks.size).toBe(12);
      expect(blockContents(b.sink)).toEqual(blockContents(a.sink));
      expect(metrics).toContain(
        'promstream_deadletter_records_total{processor="block-builder",reason="invalid_tenant"} 3',
      );
      expect(metrics).toContain(
        'promstream_deadletter_records_total{processor="block-builder",reason="bad_record"} 1',
      );

      const letters = await listDeadLetters({ brokers: log.brokers, topic: deadLetterTopic });
      expect(letters.length).toBe(4);
      const byOrigin = (x: { partition: number; offset: number }) => `${x.partition}/${x.offset}`;
      expect(letters.map((l) => byOrigin(l.info)).sort()).toEqual(poison.map(byOrigin).sort());
      for (const letter of letters) {
        const want = poison.find((p) => byOrigin(p) === byOrigin(letter.info))!;
        expect(letter.value?.toString()).toBe(want.value);
        expect(letter.key).toBeNull();
        expect(letter.headers.trace?.toString()).toBe('poison');
        expect(letter.info).toMatchObject<Partial<DeadLetterInfo>>({
          topic: poisoned,
          processor: 'block-builder',
          reason: want.reason,
          attempts: 1,
        });
        expect(letter.info.timestamp).toBeGreaterThanOrEqual(T0);
        expect(letter.info.deadLetteredAt).toBeGreaterThan(letter.info.timestamp);
        if (want.reason === 'invalid_tenant') {
          expect(letter.info.tenant).toBe(JSON.parse(want.value).tenant);
          expect(letter.info.message).toMatch(/tenant ID/);
        } else expect(letter.info.message).toMatch(/JSON/);
      }
      expect(TOPICS.deadletter).not.toBe(deadLetterTopic);
    });

    test('a restart that reads the poisoned records again does not dead-letter them twice', async () => {
      const state = new MemoryState();
      const groupId = `bbdl-${randomUUID()}`;
      const first = await build(poisoned, groupId, state);
      await first.builder.waitForCommit(0, 20, 30_000);
      await first.builder.waitForCommit(1, 20, 30_000);
      await first.builder.stop();
      const before = (await listDeadLetters({ brokers: log.brokers, topic: deadLetterTopic })).length;
      // Back to the start of the log, as after losing the offsets; the state says what was dead-lettered.
      const admin = kafka.admin();
      await admin.connect();
      await admin.setOffsets({
        groupId,
        topic: poisoned,
        partitions: [0, 1].map((partition) => ({ partition, offset: '0' })),
      });
      await admin.disconnect();
      const second = await build(poisoned, groupId, state, first.sink);
      await second.builder.waitForCommit(0, 20, 30_000);
      await second.builder.waitForCommit(1, 20, 30_000);
      const metrics = await second.builder.registry.getSingleMetricAsString(
        'promstream_deadletter_records_total',
      );
      await second.builder.stop();
      expect((await listDeadLetters({ brokers: log.brokers, topic: deadLetterTopic })).length).toBe(before);
      expect(metrics).not.toMatch(/reason="invalid_tenant"} [1-9]/);
    });
  });
}
