import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createSerdes,
  partitionFor,
  type RunningRegistry,
  type SampleBatch,
  type Serdes,
  startRegistry,
} from '@promstream/schemas';
import { decodeXorChunk } from '@promstream/storage';
import {
  announceSkip,
  findTool,
  freePort,
  type LogBackend,
  type Pick,
  realKafka,
  startEmbeddedBroker,
} from '@promstream/testkit';
import pino from 'pino';
import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../src/agent/agent.js';
import { type Gateway, startGateway } from '../src/gateway/server.js';
import { createLogWriters, type LogWriters } from '../src/log/writers.js';
import type { WriteSeries } from '../src/remote-write/types.js';
import { encodeV1 } from '../src/remote-write/v1.js';
import { encodeV2 } from '../src/remote-write/v2.js';
import { readTopic } from './helpers.js';

const kcat = findTool('kcat');
if (kcat === undefined)
  announceSkip('kcat reads agent events', 'kcat is not installed (infra/scripts/debian-packages.sh)');

// The same suite against real Kafka (KAFKA_BROKERS) and the embedded broker.
const backends: [string, Pick<LogBackend>][] = [
  ['real Kafka', realKafka()],
  ['the embedded broker', await startEmbeddedBroker()],
];

/** A window wide enough for the fixed timestamps these tests write. */
const backfill = { pastMs: 100 * 365 * 86_400_000, futureMs: 600_000 };

for (const [name, picked] of backends) {
  if (!picked.ok) announceSkip(`gateway and agent on ${name}`, picked.reason);
}

describe.each(backends.filter(([, picked]) => picked.ok))('gateway and agent on %s', (_name, picked) => {
  let backend: LogBackend;
  let writers: LogWriters;
  let gateway: Gateway;
  let registry: RunningRegistry;
  let serdes: Serdes;
  const run = Date.now().toString(36);
  const samplesTopic = `ingest-test-samples-${run}`;
  const eventsTopic = `ingest-test-events-${run}`;
  const logger = pino({ level: 'silent' });
  let partitionsUsedBefore = 0;

  beforeAll(async () => {
    if (!picked.ok) throw new Error(picked.reason);
    backend = picked.backend;
    // The production path: the embedded schema registry on the same log, serdes by URL.
    registry = await startRegistry({ brokers: backend.brokers, port: await freePort(), logger });
    serdes = createSerdes({ registryUrl: registry.url });
    writers = createLogWriters({
      brokers: backend.brokers,
      registryUrl: registry.url,
      samplesTopic,
      eventsTopic,
      samplePartitions: 3,
      eventPartitions: 2,
      logger,
    });
    gateway = await startGateway({
      sink: writers.samples,
      producer: writers.producer,
      port: 0,
      logger,
      // These tests write fixed timestamps of 2023, as a backfilling tenant would.
      sampleWindow: () => backfill,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await registry?.close();
    await backend?.stop();
  });

  it('acknowledges a remote write only with every sample on the log, one series per partition', async () => {
    const series: WriteSeries[] = Array.from({ length: 40 }, (_, i) => ({
      labels: [
        { name: '__name__', value: 'ingest_test_metric' },
        { name: 'i', value: String(i) },
      ],
      timestamps: [1_700_000_000_000, 1_700_000_015_000, 1_700_000_030_000],
      values: [i, i + 0.5, i === 7 ? Number.NaN : -i],
      histograms: [],
      exemplars: 0,
    }));
    const res = await fetch(`${gateway.url}/api/v1/write`, {
      method: 'POST',
      body: snappy.compressSync(Buffer.from(encodeV1(series))),
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-scope-orgid': 'tenant-a',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('120');

    const seen = new Map<string, { partition: number; ts: number[]; vs: number[] }>();
    // One record per partition the series hash to (40 series fit in one record each).
    const partitions = new Set(series.map((x) => partitionFor(x.labels, 3)));
    const records = await readTopic(backend.brokers, samplesTopic, (r) => r.length >= partitions.size);
    expect(records).toHaveLength(partitions.size);
    partitionsUsedBefore = partitions.size;
    for (const rec of records) {
      const batch: SampleBatch = await serdes.sampleBatch.deserialize(samplesTopic, rec.value);
      expect(batch.tenant).toBe('tenant-a');
      for (const s of batch.series) {
        const { ts, vs } = decodeXorChunk(s.chunk);
        seen.set(s.labels[1]!.value, { partition: rec.partition, ts: [...ts], vs: [...vs] });
        expect(rec.partition).toBe(partitionFor(s.labels, 3));
        expect(s.minTime).toBe(1_700_000_000_000);
        expect(s.maxTime).toBe(1_700_000_030_000);
      }
    }
    expect(seen.size).toBe(40);
    for (const s of series) {
      const got = seen.get(s.labels[1]!.value)!;
      expect(got.ts).toEqual(s.timestamps);
      expect(got.vs.map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(
        s.values.map((v) => (Number.isNaN(v) ? 'NaN' : v)),
      );
    }
  });

  it("keeps each sender's order of a series while sends overlap on several producers", async () => {
    const topic = `ingest-test-order-${run}`;
    const own = createLogWriters({
      brokers: backend.brokers,
      serdes,
      samplesTopic: topic,
      eventsTopic,
      samplePartitions: 3,
      producers: 3,
      logger,
    });
    const senders = 8;
    const rounds = 5;
    const start = 1_700_000_000_000;
    let expected = 0;
    let records: Awaited<ReturnType<typeof readTopic>>;
    try {
      // Senders overlap; each waits for its answer before sending the next samples of its series.
      await Promise.all(
        Array.from({ length: senders }, async (_, k) => {
          for (let r = 0; r < rounds; r++) {
            const series: WriteSeries[] = Array.from({ length: 10 }, (_, i) => ({
              labels: [
                { name: '__name__', value: 'ingest_order' },
                { name: 'i', value: String(i) },
                { name: 'sender', value: String(k) },
              ],
              timestamps: [start + r * 15_000],
              values: [r],
              histograms: [],
              exemplars: 0,
            }));
            const written = await own.samples.write('tenant-order', series);
            expected += written.records;
          }
        }),
      );
      records = await readTopic(backend.brokers, topic, (rs) => rs.length >= expected);
    } finally {
      await own.producer.close();
    }
    expect(records).toHaveLength(expected);
    records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
    const seen = new Map<string, number[]>();
    for (const rec of records) {
      const batch: SampleBatch = await serdes.sampleBatch.deserialize(topic, rec.value);
      for (const s of batch.series) {
        expect(rec.partition).toBe(partitionFor(s.labels, 3));
        const key = `${s.labels[2]!.value}/${s.labels[1]!.value}`;
        const ts = seen.get(key) ?? [];
        ts.push(...decodeXorChunk(s.chunk).ts);
        seen.set(key, ts);
      }
    }
    expect(seen.size).toBe(senders * 10);
    const inOrder = Array.from({ length: rounds }, (_, r) => start + r * 15_000);
    for (const [key, ts] of seen) expect(ts, key).toEqual(inOrder);
  });

  it('carries native histograms of a 2.0 request to the log', async () => {
    const histogram = {
      counterResetHint: 0,
      schema: 3,
      zeroThreshold: 1e-128,
      zeroCount: 2,
      count: 10,
      sum: 12.5,
      positiveSpans: [{ offset: 1, length: 2 }],
      negativeSpans: [],
      positiveBuckets: [3, 5],
      negativeBuckets: [],
      customValues: [],
    };
    const series: WriteSeries[] = [
      {
        labels: [{ name: '__name__', value: 'ingest_test_latency' }],
        timestamps: [],
        values: [],
        histograms: [{ timestamp: 1_700_000_000_000, integer: false, histogram }],
        exemplars: 0,
      },
    ];
    const res = await fetch(`${gateway.url}/api/v1/write`, {
      method: 'POST',
      body: snappy.compressSync(Buffer.from(encodeV2(series))),
      headers: {
        'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
        'content-encoding': 'snappy',
        'x-scope-orgid': 'tenant-h',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-histograms-written')).toBe('1');
    const batches: SampleBatch[] = [];
    await readTopic(backend.brokers, samplesTopic, (r) => r.length >= 1 + partitionsUsedBefore, 30_000).then(
      async (records) => {
        for (const r of records) batches.push(await serdes.sampleBatch.deserialize(samplesTopic, r.value));
      },
    );
    const chunk = batches.filter((b) => b.tenant === 'tenant-h').flatMap((b) => b.series)[0]!;
    expect(chunk.encoding).toBe('FLOAT_HISTOGRAM');
    expect(chunk.chunk.length).toBe(0);
    expect(chunk.histograms[0]!.histogram).toEqual(histogram);
  });

  it('publishes agent events keyed by host', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ingest-agent-kafka-'));
    const agent = await startAgent({
      samples: writers.samples,
      events: writers.events,
      dataDir: dir,
      host: 'node-kafka-test',
      intervalMs: 0,
      port: 0,
      kernelLog: false,
      logger,
    });
    try {
      agent.emit({
        time: 1_700_000_000_000,
        host: 'node-kafka-test',
        source: 'hardware',
        kind: 'edac_error',
        severity: 'error',
        message: 'EDAC MC0: 1 CE memory read error',
        attributes: { controller: 'MC0' },
      });
      await agent.collect();
      expect(await agent.flush()).toBe(2);
    } finally {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const records = await readTopic(backend.brokers, eventsTopic, (r) => r.length >= 1);
    expect(records[0]!.key.toString()).toBe('node-kafka-test');
    const event = await serdes.event.deserialize(eventsTopic, records[0]!.value);
    expect(event).toMatchObject({
      kind: 'edac_error',
      source: 'hardware',
      severity: 'error',
      attributes: { controller: 'MC0' },
    });
  });

  it.skipIf(kcat === undefined)('kcat (librdkafka) reads the agent events as kafkajs does', async () => {
    // The events written by the test above, as kafkajs reads them...
    const records = await readTopic(backend.brokers, eventsTopic, (r) => r.length >= 1);
    // ...and as kcat reads them: the same key and the same value size.
    const out = execFileSync(
      kcat!,
      [
        '-C',
        '-b',
        backend.brokers.join(','),
        '-t',
        eventsTopic,
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%k %S %o\n',
      ],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    const [key, size] = out.trim().split('\n')[0]!.split(' ');
    expect(key).toBe('node-kafka-test');
    expect(Number(size)).toBe(records[0]!.value.length);
  });

  it('answers 503 while the log is unreachable', async () => {
    const deadPort = await freePort();
    const dead = createLogWriters({
      brokers: [`127.0.0.1:${deadPort}`],
      serdes,
      samplesTopic,
      eventsTopic,
      logger,
    });
    const gw = await startGateway({
      sink: dead.samples,
      producer: dead.producer,
      port: 0,
      logger,
      sampleWindow: () => backfill,
    });
    try {
      const res = await fetch(`${gw.url}/api/v1/write`, {
        method: 'POST',
        body: snappy.compressSync(
          Buffer.from(
            encodeV1([
              {
                labels: [{ name: '__name__', value: 'x' }],
                timestamps: [1],
                values: [1],
                histograms: [],
                exemplars: 0,
              },
            ]),
          ),
        ),
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
      });
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/log_unavailable: connect to the log/);
    } finally {
      await gw.close();
    }
  });
});
