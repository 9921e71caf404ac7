import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registerZstdCodec } from '@promstream/log';
import type { SampleBatch } from '@promstream/schemas';
import { decodeXorChunk, isStaleNaN } from '@promstream/storage';
import { announceSkip, findTool, freePort, type LogBackend, logBackend } from '@promstream/testkit';
import kafkajs from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../src/gateway/server.js';
import { createLogWriters } from '../src/log/writers.js';
import { memorySerdes } from './helpers.js';
import { type Started, startTool } from './processes.js';

const prometheus = findTool('prometheus');
const nodeExporter = findTool('prometheus-node-exporter');
const picked = await logBackend();
const reason =
  prometheus === undefined
    ? 'prometheus is not installed (infra/scripts/debian-packages.sh)'
    : nodeExporter === undefined
      ? 'prometheus-node-exporter is not installed (infra/scripts/debian-packages.sh)'
      : picked.ok
        ? undefined
        : picked.reason;
if (reason !== undefined) announceSkip('Prometheus remote write to the gateway', reason);

// Metrics compared sample by sample: a counter, gauges, and Prometheus' own per-scrape series.
const compared = [
  'up',
  'node_load1',
  'node_memory_MemFree_bytes',
  'node_cpu_seconds_total',
  'scrape_samples_scraped',
];

type SeriesSamples = Map<string, Map<number, number>>;
const keyOf = (labels: Record<string, string>) =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');

describe.runIf(reason === undefined)('Prometheus remote write to the gateway', () => {
  let backend: LogBackend;
  let gateway: Gateway;
  let exporter: Started;
  let prom: Started;
  let dir: string;
  let promUrl: string;
  const serdes = memorySerdes();
  const topic = `ingest-test-prom-${Date.now().toString(36)}`;
  const onLog: SeriesSamples = new Map();
  const tenants = new Set<string>();
  const crashes: string[] = [];
  let consumer: kafkajs.Consumer | undefined;

  beforeAll(async () => {
    if (!picked.ok) throw new Error(picked.reason);
    backend = picked.backend;
    dir = mkdtempSync(path.join(tmpdir(), 'ingest-prom-'));
    const logger = pino({ level: 'silent' });
    const writers = createLogWriters({
      brokers: backend.brokers,
      serdes,
      samplesTopic: topic,
      samplePartitions: 3,
      logger,
    });
    gateway = await startGateway({ sink: writers.samples, producer: writers.producer, port: 0, logger });

    const exporterPort = await freePort();
    exporter = await startTool(
      nodeExporter!,
      [`--web.listen-address=127.0.0.1:${exporterPort}`],
      exporterPort,
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s }',
        'scrape_configs:',
        '  - job_name: node',
        `    static_configs: [{ targets: ["127.0.0.1:${exporterPort}"] }]`,
        'remote_write:',
        `  - url: ${gateway.url}/api/v1/write`,
        '    queue_config: { batch_send_deadline: 1s, max_samples_per_send: 5000 }',
      ].join('\n'),
    );
    prom = await startTool(
      prometheus!,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      promPort,
    );

    // Creates the topic, so the reader can subscribe before the first write.
    await writers.producer.partitions(topic);
    registerZstdCodec();
    const kafka = new kafkajs.Kafka({ brokers: backend.brokers, logLevel: kafkajs.logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: `${topic}-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.CRASH, (e) => crashes.push(String(e.payload.error)));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const batch: SampleBatch = await serdes.sampleBatch.deserialize(topic, message.value!);
        tenants.add(batch.tenant);
        for (const s of batch.series) {
          const labels = Object.fromEntries(s.labels.map((l) => [l.name, l.value]));
          if (!compared.includes(labels.__name__ ?? '')) continue;
          const { ts, vs } = decodeXorChunk(s.chunk);
          const key = keyOf(labels);
          let m = onLog.get(key);
          if (m === undefined) onLog.set(key, (m = new Map()));
          for (let i = 0; i < ts.length; i++) if (!isStaleNaN(vs[i]!)) m.set(ts[i]!, vs[i]!);
        }
      },
    });
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await prom?.stop();
    await exporter?.stop();
    await gateway?.close();
    await backend?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function stored(): Promise<SeriesSamples> {
    const query = `{__name__=~"${compared.join('|')}"}[10m]`;
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as {
      data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    const out: SeriesSamples = new Map();
    for (const r of body.data.result) {
      out.set(keyOf(r.metric), new Map(r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)])));
    }
    return out;
  }

  it('puts on the log exactly the samples Prometheus stored', async () => {
    // Wait for a few scrapes of the exporter.
    await expect
      .poll(async () => [...(await stored()).values()].reduce((n, m) => Math.max(n, m.size), 0), {
        timeout: 30_000,
        interval: 500,
      })
      .toBeGreaterThanOrEqual(4);
    const reference = await stored();
    const upKey = [...reference.keys()].find((k) => k.includes('__name__="up"'))!;
    const cutoff = Math.max(...reference.get(upKey)!.keys());
    const upTo = (m: SeriesSamples) =>
      new Map(
        [...m].map(([k, s]) => [k, [...s].filter(([t]) => t <= cutoff).sort(([a], [b]) => a - b)] as const),
      );
    // Remote write lags the scrape by up to the batch deadline; wait for the log to catch up to the cutoff.
    await expect
      .poll(() => [...upTo(reference)].every(([k, s]) => (onLog.get(k)?.size ?? 0) >= s.length), {
        timeout: 30_000,
        interval: 500,
      })
      .toBe(true)
      .catch(async (err: unknown) => {
        const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
        throw new Error(
          `log behind Prometheus: reader crashes ${crashes}, tenants ${[...tenants]}, ${onLog.size} series on the log of ${reference.size}; gateway: ${metrics
            .split('\n')
            .filter((l) => l.startsWith('promstream_gateway_requests_total'))
            .join('; ')}; prometheus: ${prom.output().slice(-1500)}`,
          { cause: err },
        );
      });
    // Debian's Prometheus 2.42 does not send remote_write `headers`, so its writes land in the default tenant.
    expect([...tenants]).toEqual(['anonymous']);
    const want = upTo(reference);
    const got = upTo(onLog);
    expect(want.size).toBeGreaterThan(5);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, samples] of want) expect(got.get(k), k).toEqual(samples);
    expect(prom.output()).not.toMatch(/level=error.*remote/i);
  });
});
