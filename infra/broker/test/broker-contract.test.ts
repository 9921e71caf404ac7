import { type Admin, CompressionCodecs, CompressionTypes, type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lz4Codec, snappyCodec, zstdCodec } from '../src/index.js';
import { backends, fresh } from './broker/backends.js';
import { buildBatch, produceRaw, RawClient } from './broker/raw-client.js';

CompressionCodecs[CompressionTypes.Snappy] = snappyCodec();
CompressionCodecs[CompressionTypes.LZ4] = lz4Codec();
CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec();

function collect(consumer: Consumer, want: number, timeoutMs = 30_000): Promise<string[]> {
  const seen: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${seen.length} of ${want} messages`)), timeoutMs);
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(String(message.value));
        if (seen.length === want) {
          clearTimeout(timer);
          resolve(seen);
        }
      },
    });
  });
}

/**
 * Creates topics and waits until every partition has a leader. Apache Kafka answers CreateTopics
 * before its metadata cache knows the topic; kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION
 * when that lag is long (a loaded machine), so the wait here retries it.
 */
async function createTopics(admin: Admin, options: Parameters<Admin['createTopics']>[0]): Promise<boolean> {
  const created = await admin.createTopics({ ...options, waitForLeaders: false });
  const names = options.topics.map((t) => t.topic);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
        return created;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads until the answer satisfies `done` or 30 s pass, and returns the last answer for the test to check. */
async function settle<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(backends)('broker contract: $name', (backend) => {
  let brokers: string[];
  let stop: () => Promise<void>;
  let kafka: Kafka;

  beforeAll(async () => {
    const b = await backend.start();
    brokers = b.brokers;
    stop = () => b.stop();
    kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'contract' });
  });
  afterAll(async () => {
    await stop();
  });

  it('produces and consumes in order', async () => {
    const topic = fresh('order');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, { topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const values = Array.from({ length: 500 }, (_, i) => `m${i}`);
    for (let i = 0; i < values.length; i += 50) {
      await producer.send({ topic, acks: -1, messages: values.slice(i, i + 50).map((value) => ({ value })) });
    }
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: fresh('g') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = await collect(consumer, values.length);
    await consumer.disconnect();
    expect(seen).toEqual(values);
  });

  it('round-trips gzip, snappy, lz4 and zstd batches', async () => {
    const producer = kafka.producer();
    await producer.connect();
    for (const [name, codec] of [
      ['gzip', CompressionTypes.GZIP],
      ['snappy', CompressionTypes.Snappy],
      ['lz4', CompressionTypes.LZ4],
      ['zstd', CompressionTypes.ZSTD],
    ] as const) {
      const topic = fresh(name);
      const values = Array.from({ length: 100 }, (_, i) => `${name}-${i}-${'x'.repeat(i)}`);
      const admin = kafka.admin();
      await admin.connect();
      await createTopics(admin, { topics: [{ topic, numPartitions: 1 }] });
      await admin.disconnect();
      await producer.send({
        topic,
        acks: -1,
        compression: codec,
        messages: values.map((value) => ({ value })),
      });
      const consumer = kafka.consumer({ groupId: fresh('g') });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen = await collect(consumer, values.length);
      await consumer.disconnect();
      expect(seen, name).toEqual(values);
    }
    await producer.disconnect();
  });

  it('carries batches over 1 MB where the topic allows and refuses them where it does not', async () => {
    const big = fresh('big');
    const small = fresh('small');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, {
      topics: [
        {
          topic: big,
          numPartitions: 1,
          configEntries: [{ name: 'max.message.bytes', value: String(8 << 20) }],
        },
        { topic: small, numPartitions: 1 },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const value = Buffer.alloc(3 << 20, 7);
    await producer.send({ topic: big, acks: -1, messages: [{ value }] });
    await expect(producer.send({ topic: small, acks: -1, messages: [{ value }] })).rejects.toMatchObject({
      type: 'MESSAGE_TOO_LARGE',
    });
    await producer.disconnect();
    const consumer = kafka.consumer({
      groupId: fresh('g'),
      maxBytesPerPartition: 16 << 20,
      maxBytes: 32 << 20,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: big, fromBeginning: true });
    const got = await new Promise<Buffer>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          resolve(message.value as Buffer);
        },
      });
    });
    await consumer.disconnect();
    expect(got.length).toBe(value.length);
    expect(got.equals(value)).toBe(true);
  });

  it('commits offsets and resumes from them', async () => {
    const topic = fresh('commit');
    const groupId = fresh('g');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, { topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    const first = Array.from({ length: 20 }, (_, i) => `a${i}`);
    await producer.send({
      topic,
      acks: -1,
      messages: first.map((value, i) => ({ value, partition: i % 2 })),
    });
    const c1 = kafka.consumer({ groupId });
    await c1.connect();
    await c1.subscribe({ topic, fromBeginning: true });
    expect((await collect(c1, first.length)).sort()).toEqual([...first].sort());
    await c1.disconnect(); // commits what it consumed
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = committed[0]?.partitions.reduce((n, p) => n + Number(p.offset), 0);
    expect(total).toBe(first.length);
    const second = Array.from({ length: 10 }, (_, i) => `b${i}`);
    await producer.send({
      topic,
      acks: -1,
      messages: second.map((value, i) => ({ value, partition: i % 2 })),
    });
    await producer.disconnect();
    const c2 = kafka.consumer({ groupId });
    await c2.connect();
    await c2.subscribe({ topic, fromBeginning: true });
    const resumed = await collect(c2, second.length);
    await new Promise((r) => setTimeout(r, 500)); // anything beyond the new messages would arrive now
    await c2.disconnect();
    expect(resumed.sort()).toEqual([...second].sort());
    const groups = await admin.listGroups();
    expect(groups.groups.map((g) => g.groupId)).toContain(groupId);
    await admin.disconnect();
  });

  it('rebalances a group of three as members join and leave', async () => {
    const topic = fresh('group');
    const groupId = fresh('g');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, { topics: [{ topic, numPartitions: 6 }] });
    const assignments = new Map<string, number[]>();
    const members: Consumer[] = [];
    const join = async (name: string) => {
      const c = kafka.consumer({
        groupId,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        rebalanceTimeout: 10_000,
      });
      c.on(c.events.GROUP_JOIN, (e) => {
        assignments.set(name, [...(e.payload.memberAssignment[topic] ?? [])].sort());
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      void c.run({ eachMessage: async () => {} });
      members.push(c);
      return c;
    };
    const covers = (names: string[]) => {
      const all = names.flatMap((n) => assignments.get(n) ?? []).sort();
      return (
        all.length === 6 &&
        new Set(all).size === 6 &&
        names.every((n) => (assignments.get(n) ?? []).length === 6 / names.length)
      );
    };
    await join('a');
    await until(() => covers(['a']), 30_000, 'one member holding all six partitions');
    await join('b');
    await join('c');
    await until(() => covers(['a', 'b', 'c']), 45_000, 'three members holding two partitions each');
    const described = await admin.describeGroups([groupId]);
    expect(described.groups[0]?.members.length).toBe(3);
    expect(described.groups[0]?.state).toBe('Stable');
    await (members.pop() as Consumer).disconnect(); // c leaves
    assignments.delete('c');
    await until(() => covers(['a', 'b']), 45_000, 'two members holding three partitions each');
    for (const c of members) await c.disconnect();
    await admin.disconnect();
  });

  it('drops retried idempotent batches and rejects out-of-order sequences', async () => {
    const topic = fresh('idem');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, { topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const c = await RawClient.connect(brokers[0] as string);
    // A freshly started Kafka answers COORDINATOR_LOAD_IN_PROGRESS (14) or
    // COORDINATOR_NOT_AVAILABLE (15) until its transaction coordinator is up;
    // clients retry those, and so does this test, for a bounded time.
    let init = await c.request(22, 1, (w) => w.nullableString(null).int32(60_000));
    let code = -1;
    for (let attempt = 0; ; attempt++) {
      init.int32();
      code = init.int16();
      if ((code !== 14 && code !== 15) || attempt >= 60) break;
      await new Promise((r) => setTimeout(r, 500));
      init = await c.request(22, 1, (w) => w.nullableString(null).int32(60_000));
    }
    expect(code).toBe(0);
    const producerId = init.bigint64();
    const epoch = init.int16();
    const b0 = buildBatch(['a', 'b'], { producerId, epoch, baseSequence: 0 });
    const first = await produceRaw(c, topic, 0, Buffer.from(b0));
    expect(first.errorCode).toBe(0);
    const retry = await produceRaw(c, topic, 0, Buffer.from(b0));
    expect(retry).toEqual(first); // same offset, nothing written twice
    const gap = await produceRaw(c, topic, 0, buildBatch(['z'], { producerId, epoch, baseSequence: 5 }));
    expect(gap.errorCode).toBe(45); // OUT_OF_ORDER_SEQUENCE_NUMBER
    const next = await produceRaw(c, topic, 0, buildBatch(['c'], { producerId, epoch, baseSequence: 2 }));
    expect(next).toEqual({ errorCode: 0, baseOffset: first.baseOffset + 2 });
    c.close();
    // kafkajs' idempotent producer on top: every message exactly once.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'd' }, { value: 'e' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: fresh('g') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    expect(await collect(consumer, 5)).toEqual(['a', 'b', 'c', 'd', 'e']);
    await consumer.disconnect();
  });

  it('creates, describes, grows and deletes topics through the admin API', async () => {
    const topic = fresh('admin');
    const admin = kafka.admin();
    await admin.connect();
    expect(
      await createTopics(admin, {
        topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      }),
    ).toBe(true);
    expect(await createTopics(admin, { topics: [{ topic, numPartitions: 2 }] })).toBe(false); // already exists
    expect(await admin.listTopics()).toContain(topic);
    const configs = await admin.describeConfigs({
      resources: [{ type: 2, name: topic, configNames: ['cleanup.policy', 'retention.ms'] }],
      includeSynonyms: false,
    });
    const entries = configs.resources[0]?.configEntries ?? [];
    expect(entries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe('compact');
    expect(entries.find((e) => e.configName === 'retention.ms')?.configValue).toBe('604800000');
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    // Kafka's controller answers before its metadata cache has caught up; the answers settle.
    const meta = await settle(
      () => admin.fetchTopicMetadata({ topics: [topic] }),
      (m) => m.topics[0]?.partitions.length === 4,
    );
    expect(meta.topics[0]?.partitions.length).toBe(4);
    await admin.deleteTopics({ topics: [topic] });
    const listed = await settle(
      () => admin.listTopics(),
      (names) => !names.includes(topic),
    );
    expect(listed).not.toContain(topic);
    await admin.disconnect();
  });

  it('deletes records below an offset and reports the new low watermark', async () => {
    const topic = fresh('delrec');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, { topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 10; i++) await producer.send({ topic, acks: -1, messages: [{ value: `r${i}` }] });
    await producer.disconnect();
    await admin.fetchTopicMetadata({ topics: [topic] }); // the admin client learns the partition leader
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '6' }] });
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets[0]).toMatchObject({ partition: 0, low: '6', high: '10' });
    const consumer = kafka.consumer({ groupId: fresh('g') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    expect(await collect(consumer, 4)).toEqual(['r6', 'r7', 'r8', 'r9']);
    await consumer.disconnect();
    await admin.disconnect();
  });

  it('finds offsets by timestamp inside a batch, and the earliest and latest offsets', async () => {
    const topic = fresh('bytime');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, { topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now() - 60_000;
    // One send, one batch: the broker has to look inside it.
    await producer.send({
      topic,
      acks: -1,
      messages: [0, 1, 2, 3].map((i) => ({ value: `t${i}`, timestamp: String(t0 + i * 1000) })),
    });
    await producer.disconnect();
    await admin.fetchTopicMetadata({ topics: [topic] });
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 1500)).toEqual([
      { partition: 0, offset: '2' },
    ]);
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, t0)).toEqual([{ partition: 0, offset: '0' }]);
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets[0]).toMatchObject({ partition: 0, low: '0', high: '4' });
    await admin.disconnect();
  });

  it('refuses records stamped more than message.timestamp.after.max.ms ahead with INVALID_TIMESTAMP', async () => {
    const topic = fresh('future');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, {
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [{ name: 'message.timestamp.after.max.ms', value: '600000' }],
        },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    const at = (ahead: number) => String(Date.now() + ahead);
    // Five minutes ahead is inside the topic's ten; the default (an hour) would take a whole hour.
    await producer.send({ topic, acks: -1, messages: [{ value: 'near', timestamp: at(5 * 60_000) }] });
    const refused = await producer
      .send({ topic, acks: -1, messages: [{ value: 'far', timestamp: at(20 * 60_000) }] })
      .then(
        () => 'accepted',
        (err: { type?: string; cause?: { type?: string } }) => err.type ?? err.cause?.type ?? String(err),
      );
    await producer.disconnect();
    expect(refused).toBe('INVALID_TIMESTAMP');
    const offsets = await (async () => {
      const a = kafka.admin();
      await a.connect();
      try {
        return await a.fetchTopicOffsets(topic);
      } finally {
        await a.disconnect();
      }
    })();
    expect(offsets[0]?.high).toBe('1');
  });

  it('answers unknown topics and partitions with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const topic = fresh('known');
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, { topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const c = await RawClient.connect(brokers[0] as string);
    expect((await produceRaw(c, topic, 7, buildBatch(['x']))).errorCode).toBe(3);
    expect((await produceRaw(c, fresh('missing'), 0, buildBatch(['x']))).errorCode).toBe(3);
    // Metadata v4 with auto-creation off for a topic that does not exist.
    const missing = fresh('missing');
    const r = await c.request(3, 4, (w) => w.int32(1).string(missing).bool(false));
    r.int32(); // throttle
    const nBrokers = r.int32();
    for (let i = 0; i < nBrokers; i++) {
      r.int32();
      r.string();
      r.int32();
      r.nullableString();
    }
    r.nullableString(); // cluster id
    r.int32(); // controller
    expect(r.int32()).toBe(1);
    expect(r.int16()).toBe(3);
    expect(r.string()).toBe(missing);
    // ListOffsets v1 on a partition that does not exist.
    const lo = await c.request(2, 1, (w) => w.int32(-1).int32(1).string(topic).int32(1).int32(9).int64(-1));
    lo.int32();
    lo.string();
    lo.int32();
    expect(lo.int32()).toBe(9);
    expect(lo.int16()).toBe(3);
    // A corrupt batch (CRC broken) is refused with CORRUPT_MESSAGE and nothing is written.
    const bad = buildBatch(['y']);
    bad.writeUInt8((bad.readUInt8(bad.length - 1) ^ 0xff) & 0xff, bad.length - 1);
    expect((await produceRaw(c, topic, 0, bad)).errorCode).toBe(2);
    c.close();
  });
});
