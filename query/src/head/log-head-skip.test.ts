import { randomUUID } from 'node:crypto';
import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import { newMatcher, ValueType } from '@promstream/storage';
import { announceSkip, type LogBackend, realKafka, startEmbeddedBroker } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, test } from 'vitest';
import { LogHead } from './log-head.js';

// The query head never halts on a record: what can never be read is skipped
// and counted by reason, a registry that does not answer is waited out and
// the record read again, and everything after is read as usual.

const real = realKafka();
if (!real.ok) announceSkip('query head skips records on Apache Kafka', real.reason);
const backends: { name: string; enabled: boolean; start: () => Promise<LogBackend> }[] = [
  { name: 'Apache Kafka', enabled: real.ok, start: async () => (real.ok ? real.backend : Promise.reject()) },
  {
    name: 'the embedded broker',
    enabled: true,
    start: async () => {
      const b = await startEmbeddedBroker();
      if (!b.ok) throw new Error(b.reason);
      return b.backend;
    },
  },
];

const up = [{ name: '__name__', value: 'up' }];
const T0 = Math.floor((Date.now() - 60_000) / 1000) * 1000;
const record = (tenant: string, t: number) =>
  JSON.stringify({ tenant, series: [{ labels: up, t: [T0 + t], v: [t / 10] }] });

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`query head on ${backend.name}`, () => {
    let log: LogBackend | undefined;
    let head: LogHead | undefined;
    const topic = `head-skip-${randomUUID()}`;

    afterAll(async () => {
      await head?.stop();
      const admin = log && new Kafka({ brokers: log.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin?.connect();
      await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin?.disconnect();
      await log?.stop();
    });

    test('skips and counts what it can never read, waits out the registry, and reads on', async () => {
      log = await backend.start();
      const kafka = new Kafka({ brokers: log.brokers, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: [
          { value: record('t', 10) },
          { value: 'not json' },
          { value: record('.', 20) },
          { value: 'unknown schema' },
          { value: 'registry down twice' },
          { value: record('t', 30) },
        ],
      });
      await producer.disconnect();
      let downFor = 2;
      const registry = new Registry();
      head = new LogHead({
        brokers: log.brokers,
        topic,
        logger: pino({ level: 'silent' }),
        registry,
        refreshMs: 60_000,
        sleep: async () => {},
        decoder: {
          decode: async (value) => {
            const text = value.toString();
            if (text === 'unknown schema')
              throw new SchemaError(SchemaErrorCode.UnknownSchemaId, 'no schema 9');
            if (text === 'registry down twice') {
              if (downFor-- > 0) throw new SchemaError(SchemaErrorCode.Registry, 'ECONNREFUSED');
              return JSON.parse(record('t', 25));
            }
            return JSON.parse(text);
          },
        },
        watermarks: { load: async () => undefined },
      });
      await head.start();
      await head.waitForLatest(20_000);
      const got: [number, number][] = [];
      for (const s of await head
        .querier('t')
        .select({ mint: T0, maxt: T0 + 100 }, [newMatcher('=', '__name__', 'up')])) {
        const it = s.iterator();
        while (it.next() === ValueType.Float) got.push([it.atT() - T0, it.at()]);
      }
      expect(got).toEqual([
        [10, 1],
        [25, 2.5],
        [30, 3],
      ]);
      expect(await head.querier('.').labelNames({ mint: T0, maxt: T0 + 100 }, [])).toEqual([]);
      const skipped = await registry.getSingleMetricAsString('promstream_head_records_skipped_total');
      expect(skipped).toContain('promstream_head_records_skipped_total{reason="bad_record"} 1');
      expect(skipped).toContain('promstream_head_records_skipped_total{reason="invalid_tenant"} 1');
      expect(skipped).toContain('promstream_head_records_skipped_total{reason="schema_unknown_id"} 1');
      expect(skipped).not.toContain('registry_unavailable');
      const waits = await registry.getSingleMetricAsString('promstream_head_read_retries_total');
      expect(waits).toContain('promstream_head_read_retries_total{reason="registry_unavailable"} 2');
      expect(waits).toContain('promstream_head_read_retries_total{reason="schema_unknown_id"} 2');
    });
  });
}
