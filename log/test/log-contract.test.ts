import { randomUUID } from 'node:crypto';
import { announceSkip, type LogBackend, realKafka, startEmbeddedBroker } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type ConsumedRecord,
  createLogClient,
  type LogClient,
  LogError,
  LogErrorCode,
} from '../src/index.js';

// The log seam's contract: one suite, run against the embedded broker (this
// repository's, as a process of its own) and Apache Kafka at KAFKA_BROKERS.

interface Backend {
  name: string;
  start(): Promise<LogBackend | string>;
}

const backends: Backend[] = [
  {
    name: 'embedded broker',
    start: async () => {
      const b = await startEmbeddedBroker();
      return b.ok ? b.backend : b.reason;
    },
  },
  {
    name: 'Apache Kafka',
    start: async () => {
      const k = realKafka();
      return k.ok ? k.backend : k.reason;
    },
  },
];

/** A topic name no earlier run used, so the suite can run against a long-lived Kafka. */
const fresh = (what: string) => `log-contract-${what}-${randomUUID().slice(0, 8)}`;

/** A recent time for the records (see the offsetsAt case). */
const BASE = Date.now() - 3_600_000;

const record = (i: number, partition: number) => ({
  key: Buffer.from(`k${i}`),
  value: Buffer.from(`v${i}`),
  partition,
  headers: { n: Buffer.from(String(i)) },
  timestamp: BASE + i,
});

/** Collects what a handler is given until `enough` says so. */
function until<T>(enough: (seen: T[]) => boolean, timeoutMs = 30_000) {
  const seen: T[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${seen.length} after ${timeoutMs} ms`)), timeoutMs);
    done = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return {
    seen,
    finished,
    add(items: T[]) {
      seen.push(...items);
      if (enough(seen)) done();
    },
  };
}

for (const backend of backends) {
  describe(`log seam on ${backend.name}`, () => {
    let log: LogBackend | undefined;
    let client: LogClient;
    let skip: string | undefined;

    beforeAll(async () => {
      const started = await backend.start();
      if (typeof started === 'string') {
        skip = started;
        announceSkip(`log seam contract on ${backend.name}`, started);
        return;
      }
      log = started;
      client = createLogClient({ brokers: log.brokers, clientId: 'log-contract' });
    });

    afterAll(async () => {
      await client?.close();
      await log?.stop();
    });

    test('a topic is created once, its watermarks start at zero, a missing one is LOG_TOPIC_MISSING', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip);
      const admin = client.admin();
      const topic = fresh('admin');
      await admin.ensureTopics([{ topic, partitions: 3 }]);
      await admin.ensureTopics([{ topic, partitions: 3 }]);
      expect(await admin.watermarks(topic)).toEqual(
        [0, 1, 2].map((partition) => ({ partition, low: 0, high: 0 })),
      );
      const missing = await admin.watermarks(fresh('missing')).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(LogError);
      expect((missing as LogError).code).toBe(LogErrorCode.TopicMissing);
      await admin.close();
    });

    test('acknowledged sends are on the log in order, with keys, headers and times, zstd or not', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip);
      const topic = fresh('produce');
      const producer = client.producer({ ensureTopics: [{ topic, partitions: 2 }] });
      const plain = client.producer({ compression: 'none', producers: 1 });
      expect(await producer.partitions(topic)).toBe(2);
      // Concurrent sends exercise the group commit: several go out in one request.
      await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send(topic, [record(i, i % 2)])));
      await plain.send(topic, [record(20, 0)]);
      const admin = client.admin();
      const marks = await admin.watermarks(topic);
      expect(marks.reduce((n, m) => n + m.high, 0)).toBe(21);
      const ranges = new Map(marks.map((m) => [m.partition, { from: m.low, to: m.high }]));
      const read: { partition: number; r: ConsumedRecord }[] = [];
      await client.readRanges({
        topic,
        ranges,
        handler: async (partition, records) => {
          for (const r of records) read.push({ partition, r });
        },
      });
      expect(read).toHaveLength(21);
      for (const { partition, r } of read) {
        const i = Number(String(r.value).slice(1));
        expect(partition).toBe(i === 20 ? 0 : i % 2);
        expect(String(r.key)).toBe(`k${i}`);
        expect(String(r.headers.n)).toBe(String(i));
        expect(r.timestamp).toBe(BASE + i);
      }
      // Within a partition the offsets count up from 0 without gaps.
      for (const p of [0, 1]) {
        const offsets = read.filter((x) => x.partition === p).map((x) => x.r.offset);
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
      await Promise.all([producer.close(), plain.close(), admin.close()]);
    });

    test('a consumer without a group starts where `start` says and sees what is written after', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip);
      const topic = fresh('tail');
      const producer = client.producer({ ensureTopics: [{ topic, partitions: 2 }] });
      await producer.send(
        topic,
        [0, 1, 2, 3].map((i) => record(i, 0)),
      );
      // Partition 0 from offset 2 (a block watermark), partition 1 from its end.
      const got = until<number>((seen) => seen.includes(4) && seen.includes(5));
      const consumer = client.consumer({ topic, start: (p, _low, high) => (p === 0 ? 2 : high) });
      await consumer.run(async (batch) => {
        expect(batch.topic).toBe(topic);
        got.add(batch.records.map((r) => Number(String(r.value).slice(1))));
      });
      await producer.send(topic, [record(4, 0), record(5, 1)]);
      await got.finished;
      expect(got.seen.sort((a, b) => a - b)).toEqual([2, 3, 4, 5]);
      const refused = await consumer.commit(0, 1).catch((e: unknown) => e);
      expect((refused as LogError).code).toBe(LogErrorCode.BadOptions);
      await Promise.all([consumer.close(), producer.close()]);
    });

    test('a group resumes from its commit; a throwing handler gets the batch again', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip);
      const topic = fresh('group');
      const group = fresh('group');
      const producer = client.producer({ ensureTopics: [{ topic, partitions: 1 }] });
      await producer.send(
        topic,
        [0, 1, 2, 3, 4].map((i) => record(i, 0)),
      );
      let failed = false;
      const first = until<number>((seen) => seen.includes(4));
      const one = client.consumer({ topic, group });
      await one.run(async (batch) => {
        if (!failed) {
          failed = true;
          throw new Error('once');
        }
        first.add(batch.records.map((r) => r.offset));
        const last = batch.records[batch.records.length - 1];
        if (last !== undefined && last.offset <= 2) await one.commit(0, last.offset + 1);
        else if (last !== undefined) await one.commit(0, 3);
      });
      await first.finished;
      expect(first.seen).toContain(0);
      await one.close();
      // A second member of the group starts at the committed offset 3.
      const second = until<number>((seen) => seen.includes(4));
      const two = client.consumer({ topic, group });
      await two.run(async (batch) => second.add(batch.records.map((r) => r.offset)));
      await second.finished;
      expect(Math.min(...second.seen)).toBe(3);
      await Promise.all([two.close(), producer.close()]);
    });

    test('offsetsAt finds the first record at or after a time, and the end past the last', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip);
      const topic = fresh('time');
      const producer = client.producer({ ensureTopics: [{ topic, partitions: 1 }] });
      await producer.send(
        topic,
        [0, 1, 2].map((i) => ({ ...record(i, 0), timestamp: 1_000_000 + i * 1000 })),
      );
      const admin = client.admin();
      expect((await admin.offsetsAt(topic, 1_001_500)).get(0)).toBe(2);
      expect((await admin.offsetsAt(topic, 9_000_000)).get(0)).toBe(3);
      await Promise.all([admin.close(), producer.close()]);
    });

    test('a write to a topic that does not exist is LOG_UNAVAILABLE, not a hang', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip);
      const quick = createLogClient({ brokers: log!.brokers, retries: 1, requestTimeoutMs: 3000 });
      const producer = quick.producer({ producers: 1 });
      const err = await producer.send(fresh('absent'), [record(0, 0)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogError);
      expect((err as LogError).code).toBe(LogErrorCode.Unavailable);
      await quick.close();
    });
  });
}

test('a client needs a broker', () => {
  expect(() => createLogClient({ brokers: [] })).toThrow(LogError);
});
