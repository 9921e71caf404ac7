import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogClient } from '@promstream/log';
import { BucketEventQuerier, buildQueryApp, Engine, LogEventTail } from '@promstream/query';
import { createSerdes, type RunningRegistry, startRegistry } from '@promstream/schemas';
import {
  decodeSegment,
  decodeXorChunk,
  PrefixedObjectStore,
  parseSegmentKey,
  S3ObjectStore,
  segmentMetadata,
} from '@promstream/storage';
import { announceSkip, freePort, realKafka, realS3 } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MemoryLetters, testEvent } from '../../test/events.js';
import { eventDecoder } from './decoder.js';
import { LogDerivedCounterSink } from './derived-sink.js';
import { startEventStore } from './event-store.js';
import { ObjectEventStateStore } from './state-store.js';

// The event store on Apache Kafka and the S3 server, with the real Event
// serde and registry: every event published lands in exactly one segment,
// under its tenant's hour, and DuckDB reads the written files as one table.

const kafka = realKafka();
const s3 = realS3();
if (!kafka.ok) announceSkip('event store on Kafka and S3', kafka.reason);
if (!s3.ok) announceSkip('event store on Kafka and S3', s3.reason);

describe.skipIf(!kafka.ok || !s3.ok)('event store on Apache Kafka and the S3 server', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const topic = `evtest-${randomUUID()}`;
  const schemasTopic = `_schemas-evtest-${randomUUID()}`;
  const client = new Kafka({ clientId: 'evtest', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer();
  const logger = pino({ level: 'silent' });
  const T0 = Date.UTC(2026, 10, 3, 22, 30);
  const N = 600;
  const derivedTopic = `evtest-derived-${randomUUID()}`;
  const outClient = createLogClient({ clientId: 'evtest-out', brokers });
  let registry: RunningRegistry;
  let store: PrefixedObjectStore;
  const dir = mkdtempSync(path.join(tmpdir(), 'evtest-'));

  beforeAll(async () => {
    if (!s3.ok) throw new Error(s3.reason);
    const b = s3.backend;
    store = new PrefixedObjectStore(
      new S3ObjectStore({
        bucket: b.bucket,
        endpoint: b.endpoint,
        region: b.region,
        accessKeyId: b.accessKeyId,
        secretAccessKey: b.secretAccessKey,
        forcePathStyle: b.forcePathStyle,
      }),
      `evtest-${randomUUID()}`,
    );
    registry = await startRegistry({ brokers, port: await freePort(), topic: schemasTopic });
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await producer.connect();
  });

  afterAll(async () => {
    await outClient.close();
    await producer.disconnect();
    await registry?.close();
    await admin.deleteTopics({ topics: [topic, schemasTopic, derivedTopic] }).catch(() => {});
    await admin.disconnect();
    for await (const o of store.list('', { recursive: true })) await store.delete(o.key);
    rmSync(dir, { recursive: true, force: true });
  });

  test('writes every event once into hive-partitioned zstd Parquet segments that DuckDB reads', async () => {
    const serdes = createSerdes({ registryUrl: registry.url });
    const messages = [];
    for (let i = 0; i < N; i++) {
      const e = testEvent(i, T0);
      messages.push({ key: e.host, value: await serdes.event.serialize(topic, e) });
    }
    // A record that is not an Event, one with a tenant the rule refuses, and one far over the limits.
    messages.push({ key: 'host-0', value: Buffer.from('not avro') });
    const badTenant = { ...testEvent(N, T0), attributes: { tenant: '_promstream' } };
    messages.push({ key: 'host-0', value: await serdes.event.serialize(topic, badTenant) });
    const attrs = Object.fromEntries(
      Array.from({ length: 100 }, (_, k) => [`k${String(k).padStart(3, '0')}`, 'v'.repeat(2000)]),
    );
    const huge = {
      ...testEvent(N + 1, T0),
      message: 'x'.repeat(200_000),
      attributes: { ...attrs, tenant: 'team-a' },
    };
    await producer.send({ topic, acks: -1, messages });
    // Alone, as it is near the broker's largest record.
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: 'host-1', value: await serdes.event.serialize(topic, huge) }],
    });

    const letters = new MemoryLetters();
    const deserialize = (v: Buffer) => serdes.event.deserialize(topic, v);
    const es = await startEventStore({
      brokers,
      topic,
      groupId: `evtest-${randomUUID()}`,
      decoder: eventDecoder(deserialize),
      store,
      state: new ObjectEventStateStore(store),
      deadLetters: letters,
      maxSegmentBytes: 16_384,
      maxSegmentAge: 500,
      derived: new LogDerivedCounterSink(
        outClient.producer({ ensureTopics: [{ topic: derivedTopic, partitions: 2 }] }),
        serdes.sampleBatch,
        derivedTopic,
      ),
      logger,
    });
    const offsets = await admin.fetchTopicOffsets(topic);
    const deadline = Date.now() + 60_000;
    while (offsets.some((o) => (es.commits().get(o.partition) ?? 0) < Number(o.high))) {
      if (Date.now() > deadline)
        throw new Error(`commits ${JSON.stringify([...es.commits()])} short of ${JSON.stringify(offsets)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await es.stop();

    const seen = new Map<number, number>();
    let hugeSeen = false;
    const keys: string[] = [];
    for await (const o of store.list('events/', { recursive: true })) keys.push(o.key);
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) {
      const parsed = parseSegmentKey(key);
      expect(parsed, key).toBeDefined();
      const bytes = await store.get(key);
      const meta = segmentMetadata(bytes);
      expect(meta['promstream.topic']).toBe(topic);
      expect(Number(meta['promstream.partition'])).toBe(parsed?.partition);
      expect(Number(meta['promstream.first_offset'])).toBe(parsed?.firstOffset);
      for (const e of await decodeSegment(bytes)) {
        expect(e.tenant).toBe(parsed?.tenant);
        expect(Math.floor(e.time / 3_600_000) * 3_600_000).toBe(parsed?.hourStart);
        expect(e.offset).toBeGreaterThanOrEqual(parsed?.firstOffset ?? 0);
        expect(e.offset).toBeLessThanOrEqual(parsed?.lastOffset ?? 0);
        if (e.truncated) {
          expect(hugeSeen).toBe(false);
          hugeSeen = true;
          expect(e.truncated).toBe(true);
          expect(e.message.length).toBe(16_384);
          expect(Object.keys(e.attributes).length).toBe(64);
          continue;
        }
        const seq = Number(e.attributes.seq);
        const want = testEvent(seq, T0);
        expect({ ...e, tenant: undefined, partition: undefined, offset: undefined }).toEqual({
          ...want,
          tenant: undefined,
          partition: undefined,
          offset: undefined,
          truncated: false,
        });
        expect(e.tenant).toBe(want.attributes.tenant ?? 'anonymous');
        seen.set(seq, (seen.get(seq) ?? 0) + 1);
      }
      const local = path.join(dir, key);
      mkdirSync(path.dirname(local), { recursive: true });
      writeFileSync(local, bytes);
    }
    expect(hugeSeen).toBe(true);
    expect(seen.size).toBe(N);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(letters.letters.map((l) => l.info.reason).sort()).toEqual(['bad_record', 'invalid_tenant']);

    // DuckDB reads the files as a table, with date and hour from the hive path.
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const glob = path.join(dir, 'events', '*', '*', '*', '*.parquet');
    const all = await conn.runAndReadAll(
      `select count(*)::INTEGER n, count(distinct "offset" || '/' || "partition")::INTEGER u from read_parquet('${glob}', hive_partitioning = true)`,
    );
    expect(all.getRowObjectsJson()).toEqual([{ n: N + 1, u: N + 1 }]);
    const oom = await conn.runAndReadAll(
      `select date, hour, count(*)::INTEGER n from read_parquet('${glob}', hive_partitioning = true)
       where kind = 'oom_kill' and tenant = 'team-a' and json_extract_string(attributes, '$.seq')::INTEGER < ${N}
       group by all order by all`,
    );
    const want = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const e = testEvent(i, T0);
      if (e.kind !== 'oom_kill' || e.attributes.tenant !== 'team-a') continue;
      const iso = new Date(e.time).toISOString();
      const k = `${iso.slice(0, 10)} ${iso.slice(11, 13)}`;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    const got = oom
      .getRowObjectsJson()
      .map((r) => [`${String(r.date)} ${String(r.hour).padStart(2, '0')}`, r.n]);
    expect(got).toEqual([...want.entries()]);
    conn.closeSync();
  }, 120_000);

  test('counts promstream_events_total per series on the derived topic, the last total of each equal to its events', async () => {
    const serdes = createSerdes({ registryUrl: registry.url });
    const want = new Map<string, number>();
    for (let i = 0; i <= N + 1; i++) {
      const e = i === N ? undefined : testEvent(i, T0);
      if (e === undefined) continue; // The bad tenant's event is dead-lettered, not counted.
      const tenant = i === N + 1 ? 'team-a' : (e.attributes.tenant ?? 'anonymous');
      const key = [tenant, e.host, e.source, e.kind, e.severity].join('|');
      want.set(key, (want.get(key) ?? 0) + 1);
    }
    const last = new Map<string, number>();
    await outClient.readRanges({
      topic: derivedTopic,
      ranges: new Map(
        (await admin.fetchTopicOffsets(derivedTopic)).map((o) => [
          o.partition,
          { from: 0, to: Number(o.high) },
        ]),
      ),
      handler: async (_p, records) => {
        for (const r of records) {
          const batch = await serdes.sampleBatch.deserialize(derivedTopic, r.value as Buffer);
          for (const s of batch.series) {
            const l = Object.fromEntries(s.labels.map((x) => [x.name, x.value]));
            expect(l.__name__).toBe('promstream_events_total');
            expect(batch.tenant).toBe(l.tenant);
            const { vs } = decodeXorChunk(s.chunk);
            last.set([l.tenant, l.host, l.source, l.kind, l.severity].join('|'), vs[vs.length - 1] as number);
          }
        }
      },
    });
    expect(Object.fromEntries(last)).toEqual(Object.fromEntries(want));
  });

  test('the events API merges the segments with the log tail, once each', async () => {
    const serdes = createSerdes({ registryUrl: registry.url });
    const extra = [];
    for (let i = N + 2; i < N + 32; i++) {
      const e = testEvent(i, T0);
      extra.push({ key: e.host, value: await serdes.event.serialize(topic, e) });
    }
    await producer.send({ topic, acks: -1, messages: extra });
    const app = await buildQueryApp({
      engine: new Engine(),
      querierFor: () => {
        throw new Error('no metrics in this test');
      },
      events: new BucketEventQuerier({
        store,
        tail: new LogEventTail({
          client: outClient,
          topic,
          store,
          decode: (v) => serdes.event.deserialize(topic, v),
          defaultTenant: 'anonymous',
        }),
      }),
    });
    try {
      const res = await app.inject({
        method: 'GET',
        url: '/api/v1/events',
        query: {
          match: '{kind="oom_kill", host=~"host-[0-2]"} |~ "nvme[01]"',
          start: String(T0 / 1000),
          end: String((T0 + 2 * 3_600_000) / 1000),
          limit: '5000',
          direction: 'forward',
        },
        headers: { 'x-scope-orgid': 'team-b' },
      });
      expect(res.statusCode).toBe(200);
      const got = (res.json().data.events as { attributes: { seq: string } }[]).map((e) =>
        Number(e.attributes.seq),
      );
      const want = [];
      for (let i = 0; i < N + 32; i++) {
        if (i === N || i === N + 1) continue;
        const e = testEvent(i, T0);
        if (
          e.attributes.tenant === 'team-b' &&
          e.kind === 'oom_kill' &&
          ['host-0', 'host-1', 'host-2'].includes(e.host)
        )
          want.push(i);
      }
      expect(want.some((i) => i > N)).toBe(true);
      expect(got).toEqual(want);
    } finally {
      await app.close();
    }
  });
});
