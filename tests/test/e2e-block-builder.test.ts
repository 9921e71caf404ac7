import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createSerdes,
  partitionFor,
  type RunningRegistry,
  seriesKey,
  startRegistry,
} from '@promstream/schemas';
import {
  BlockReader,
  encodeXorChunk,
  type Labels,
  listAll,
  type ObjectStore,
  objectStoreFromUrl,
  ValueType,
} from '@promstream/storage';
import { ObjectPartitionStateStore, runBlockBuilder } from '@promstream/stream-processors';
import { announceSkip, freePort, prometheusReference, realKafka, realS3 } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// The block builder on the real parts: records in the Confluent wire format
// through the embedded registry on a real Kafka, blocks into a filesystem
// bucket and the real S3 server, read back with our block reader and with
// Prometheus' own promtool.

const kafka = realKafka();
if (!kafka.ok) announceSkip('block builder end to end', kafka.reason);
const s3 = realS3();
if (!s3.ok) announceSkip('block builder end to end on S3', s3.reason);
const reference = prometheusReference();
const promtool = reference.ok ? reference.backend.promtool : undefined;
if (!reference.ok) announceSkip('block builder blocks read by promtool 3.16', reference.reason);

const logger = pino({ level: 'silent' });
const BLOCK = 10_000;
const OOO = 2_000;
const PARTITIONS = 3;
/** An hour ago on a block boundary: records are stamped with their samples' times, as at ingest. */
const T0 = Math.floor((Date.now() - 3_600_000) / BLOCK) * BLOCK;

function seriesLabels(i: number): Labels {
  return [
    { name: '__name__', value: 'e2e_metric' },
    { name: 'instance', value: `host-${i}` },
    { name: 'job', value: 'e2e' },
  ];
}

/** Every sample of every block under a tenant, by series, sorted by time. */
async function readBlocks(store: ObjectStore, tenant: string): Promise<Map<string, [number, number][]>> {
  const out = new Map<string, [number, number][]>();
  const metas = (await listAll(store, `${tenant}/`, { recursive: true })).filter((o) =>
    o.key.endsWith('/meta.json'),
  );
  for (const meta of metas) {
    const reader = await BlockReader.open(store, meta.key.slice(0, -'/meta.json'.length));
    for (const s of await reader.select(
      [{ type: '=~', name: '__name__', value: '.+', matches: () => true }],
      -Infinity,
      Infinity,
    )) {
      const key = s.labels.map((l) => `${l.name}=${l.value}`).join(',');
      const it = s.iterator();
      const pts = out.get(key) ?? [];
      while (it.next() === ValueType.Float) pts.push([it.atT(), it.at()]);
      out.set(key, pts);
    }
  }
  for (const pts of out.values()) pts.sort((a, b) => a[0] - b[0]);
  return out;
}

function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(!kafka.ok)('block builder on real Kafka with the registry', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const client = new Kafka({ clientId: 'e2e-bb', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer({ idempotent: true });
  const topic = `e2e-bb-${randomUUID()}`;
  const dirs: string[] = [];
  let registry: RunningRegistry;
  const expected = new Map<string, [number, number][]>();
  const lastOffsets = new Map<number, number>();

  beforeAll(async () => {
    registry = await startRegistry({ brokers, port: await freePort(), topic: `_schemas-${randomUUID()}` });
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    await producer.connect();
    const serdes = createSerdes({ registryUrl: registry.url });
    // 12 series, a sample every second for 45 s, sent as records of 5 s per series.
    for (let start = 0; start < 45_000; start += 5_000) {
      const messages = [];
      for (let i = 0; i < 12; i++) {
        const labels = seriesLabels(i);
        const t = Array.from({ length: 5 }, (_, k) => T0 + start + k * 1000);
        const v = t.map((x) => ((x - T0) / 1000) * (i + 1));
        const key = labels.map((l) => `${l.name}=${l.value}`).join(',');
        expected.set(key, [...(expected.get(key) ?? []), ...t.map((x, k): [number, number] => [x, v[k]!])]);
        const value = await serdes.sampleBatch.serialize(topic, {
          tenant: 'team-a',
          producedAt: Date.now(),
          series: [
            {
              labels: [...labels],
              minTime: t[0]!,
              maxTime: t[4]!,
              encoding: 'XOR',
              chunk: Buffer.from(encodeXorChunk(t, v)),
              histograms: [],
            },
          ],
        });
        messages.push({
          key: seriesKey(labels),
          value,
          partition: partitionFor(labels, PARTITIONS),
          timestamp: String(t[4]),
        });
      }
      await producer.send({ topic, acks: -1, messages });
    }
    // A late tick on every partition moves the newest time far enough to cut every range.
    const tick = await serdes.sampleBatch.serialize(topic, {
      tenant: 'team-a',
      producedAt: Date.now(),
      series: [
        {
          labels: [{ name: '__name__', value: 'e2e_tick' }],
          minTime: T0 + 60_000,
          maxTime: T0 + 60_000,
          encoding: 'XOR',
          chunk: Buffer.from(encodeXorChunk([T0 + 60_000], [1])),
          histograms: [],
        },
      ],
    });
    await producer.send({
      topic,
      acks: -1,
      messages: [0, 1, 2].map((partition) => ({ value: tick, partition, timestamp: String(T0 + 60_000) })),
    });
    for (const p of await admin.fetchTopicOffsets(topic)) lastOffsets.set(p.partition, Number(p.high) - 1);
  });

  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
    await registry?.close();
    if (process.env.KEEP_E2E === undefined) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function build(storeUrl: string) {
    const builder = await runBlockBuilder({
      brokers,
      registryUrl: registry.url,
      storeUrl,
      s3: s3.ok
        ? {
            region: s3.backend.region,
            accessKeyId: s3.backend.accessKeyId,
            secretAccessKey: s3.backend.secretAccessKey,
          }
        : undefined,
      topic,
      groupId: `e2e-bb-${randomUUID()}`,
      blockDuration: BLOCK,
      outOfOrderWindow: OOO,
      logger,
    });
    try {
      const deadline = Date.now() + 45_000;
      for (const [partition, last] of lastOffsets) {
        while (
          (builder.status().find((s) => s.partition === partition)?.committed ?? -1) < 0 ||
          (builder.status().find((s) => s.partition === partition)?.lastRead ?? -1) < last
        ) {
          if (Date.now() > deadline)
            throw new Error(`builder did not reach offset ${last} on partition ${partition}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      // Let the last cut's upload and commit finish.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await builder.stop();
    }
  }

  test('every sample lands in exactly one block', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'promstream-e2e-bb-'));
    dirs.push(dir);
    await build(`file://${dir}`);
    const store = objectStoreFromUrl(`file://${dir}`);
    const got = await readBlocks(store, 'team-a');
    expect(got.size).toBe(12);
    for (const [key, pts] of expected) expect(got.get(key), key).toEqual(pts);
    const state = await new ObjectPartitionStateStore(store).load(topic, 0);
    expect(state?.boundary).toBe(Math.floor((T0 + 45_000) / BLOCK) * BLOCK + BLOCK);
  });

  test.skipIf(promtool === undefined)('promtool 3.16 reads the blocks', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'promstream-e2e-bb-'));
    dirs.push(dir);
    await build(`file://${dir}`);
    // promtool opens the directory as a TSDB, which needs a WAL directory beside the blocks.
    const db = mkdtempSync(path.join(tmpdir(), 'promstream-e2e-db-'));
    dirs.push(db);
    cpSync(path.join(dir, 'team-a'), db, { recursive: true });
    mkdirSync(path.join(db, 'wal'));
    const dump = execFileSync(promtool!, ['tsdb', 'dump', db], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = dump.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBe(12 * 45);
    expect(lines.some((l) => l.includes('instance="host-3"') && l.endsWith(` ${T0 + 7000}`))).toBe(true);
  });

  test('a second builder from scratch writes the same files byte for byte', async () => {
    const a = mkdtempSync(path.join(tmpdir(), 'promstream-e2e-bb-'));
    const b = mkdtempSync(path.join(tmpdir(), 'promstream-e2e-bb-'));
    dirs.push(a, b);
    await build(`file://${a}`);
    await build(`file://${b}`);
    const fa = filesUnder(a);
    expect([...fa.keys()].filter((k) => k.endsWith('meta.json')).length).toBeGreaterThanOrEqual(
      5 * PARTITIONS,
    );
    expect(filesUnder(b)).toEqual(fa);
  });

  test.skipIf(!s3.ok)('writes the same blocks to the real S3 server', async () => {
    const b = s3.ok ? s3.backend : undefined;
    const prefix = `e2e-bb-${randomUUID()}`;
    const url = `s3://${b!.bucket}/${prefix}?endpoint=${encodeURIComponent(b!.endpoint)}&region=${b!.region}`;
    await build(url);
    const settings = { accessKeyId: b!.accessKeyId, secretAccessKey: b!.secretAccessKey };
    const got = await readBlocks(objectStoreFromUrl(url, settings), 'team-a');
    for (const [key, pts] of expected) expect(got.get(key), key).toEqual(pts);
    const store = objectStoreFromUrl(url, settings);
    for (const o of await listAll(store, '', { recursive: true })) await store.delete(o.key);
  });
});
