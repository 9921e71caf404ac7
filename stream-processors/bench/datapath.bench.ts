/**
 * The data path's figures (issue 7):
 *   1. ingest-to-queryable freshness, p50/p99: a steady remote-write load into
 *      the gateway; probe samples are written one at a time and the time from
 *      the gateway's acknowledgement until `/api/v1/query` returns them is taken;
 *   2. replay rate, samples/s (target >= 1 million): blocks rebuilt from the log;
 *   3. block-builder throughput, samples/s per core (CPU time of this process).
 *
 *   npm run bench -w @promstream/stream-processors
 *
 * The log is the embedded broker, in a child process so that its CPU is not
 * counted, unless KAFKA_BROKERS names a real Kafka. Blocks go to a filesystem
 * store in a temporary directory; the schema registry is the embedded one.
 * BENCH_FRESHNESS_SECONDS, BENCH_LOAD_SERIES, BENCH_SERIES, BENCH_SAMPLES override the shape.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  createLogWriters,
  encodeV1,
  type LogProducer,
  LogSampleSink,
  sampleBatchCodec,
  startGateway,
  type WriteSeries,
} from '@promstream/ingest';
import { serveBlocks } from '@promstream/query';
import { createSerdes, startRegistry } from '@promstream/schemas';
import { objectStoreFromUrl, ValueType, XorIterator } from '@promstream/storage';
import { freePort } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import snappy from 'snappy';
import {
  type DecodedBatch,
  ObjectPartitionStateStore,
  ObjectStoreBlockSink,
  type RecordDecoder,
  replay,
  runBlockBuilder,
  runReplay,
} from '../src/index.js';

const FRESHNESS_SECONDS = Number(process.env.BENCH_FRESHNESS_SECONDS ?? 30);
/** Series in each background remote-write request; one request every 100 ms. */
const LOAD_SERIES = Number(process.env.BENCH_LOAD_SERIES ?? 2000);
/** Series and samples per series written to the log for the builder and replay. */
const SERIES = Number(process.env.BENCH_SERIES ?? 10_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 240);
/** Samples of one series in one write (a 3-minute batch at 15 s). */
const PER_WRITE = 12;
const STEP = 15_000;
const PARTITIONS = 2;
const TENANT = 'anonymous';
/** Block duration of the builder and replay. */
const BLOCK = 15 * 60_000;

const logger = pino({ level: process.env.BENCH_LOG ?? 'silent' });
const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'promstream-datapath-bench-'));
const cleanups: (() => Promise<unknown>)[] = [];

async function startBrokerChild(): Promise<{ brokers: string[]; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@promstream/source',
      path.join(here, 'broker-child.ts'),
      path.join(dir, 'log'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`embedded broker exited with ${code}`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { brokers: [`127.0.0.1:${port}`], child };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function postWrite(url: string, series: WriteSeries[]): Promise<void> {
  const body = snappy.compressSync(Buffer.from(encodeV1(series)));
  const res = await fetch(`${url}/api/v1/write`, {
    method: 'POST',
    body,
    headers: {
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    },
  });
  if (res.status >= 300) throw new Error(`remote write answered ${res.status}: ${await res.text()}`);
}

function oneSample(name: string, labels: [string, string][], t: number, v: number): WriteSeries {
  return {
    labels: [{ name: '__name__', value: name }, ...labels.map(([n, value]) => ({ name: n, value }))].sort(
      (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    ),
    timestamps: [t],
    values: [v],
    histograms: [],
    exemplars: 0,
  };
}

/** (1) Freshness: gateway acknowledgement to the sample in `/api/v1/query`. */
async function freshness(brokers: string[], registryUrl: string) {
  const topic = `bench-fresh-${randomUUID()}`;
  const writers = createLogWriters({
    brokers,
    registryUrl,
    samplesTopic: topic,
    eventsTopic: `${topic}-events`,
    samplePartitions: PARTITIONS,
    logger,
  });
  const gateway = await startGateway({
    sink: writers.samples,
    producer: writers.producer,
    port: await freePort(),
    logger,
  });
  // A first write creates the topic before the head looks for it.
  await postWrite(gateway.url, [oneSample('bench_warmup', [], Date.now(), 1)]);
  const query = await serveBlocks({
    store: `file://${path.join(dir, 'fresh-bucket')}`,
    port: await freePort(),
    brokers,
    registryUrl,
    samplesTopic: topic,
    defaultTenant: TENANT,
    logger,
  });
  let loading = true;
  let loadSamples = 0;
  const load = (async () => {
    for (let round = 0; loading; round++) {
      const t = Date.now();
      const series: WriteSeries[] = [];
      for (let i = 0; i < LOAD_SERIES; i++)
        series.push(
          oneSample(`bench_load_${i % 50}`, [['instance', `host-${Math.floor(i / 50)}`]], t, round + i),
        );
      await postWrite(gateway.url, series);
      loadSamples += LOAD_SERIES;
      const spent = Date.now() - t;
      if (spent < 100) await sleep(100 - spent);
    }
  })();
  const latencies: number[] = [];
  const started = Date.now();
  await sleep(2000); // the load settles first
  for (let seq = 1; Date.now() - started < FRESHNESS_SECONDS * 1000; seq++) {
    const t = Date.now();
    await postWrite(gateway.url, [oneSample('bench_probe', [['job', 'bench']], t, seq)]);
    const acked = performance.now();
    const url = `${query.url}/api/v1/query?query=bench_probe&time=${(t / 1000).toFixed(3)}`;
    for (;;) {
      const res = await fetch(url);
      const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
      if (body.data?.result?.[0]?.value[1] === String(seq)) break;
      if (performance.now() - acked > 10_000) throw new Error(`probe ${seq} not queryable after 10 s`);
      await sleep(2);
    }
    latencies.push(performance.now() - acked);
    await sleep(100);
  }
  loading = false;
  await load;
  const rate = loadSamples / ((Date.now() - started) / 1000);
  await query.close();
  await gateway.close();
  latencies.sort((a, b) => a - b);
  return {
    probes: latencies.length,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
    rate,
  };
}

/** Writes SERIES x SAMPLES samples to a fresh topic, PER_WRITE samples of each series per record. */
async function fillLog(brokers: string[], registryUrl: string, topic: string): Promise<number> {
  const writers = createLogWriters({
    brokers,
    registryUrl,
    samplesTopic: topic,
    eventsTopic: `${topic}-events`,
    samplePartitions: PARTITIONS,
    logger,
  });
  // The hour of samples ends now, and each write is stamped with its newest sample's time, as if
  // the log had been written as the samples came (the block builder's clock is the record time).
  const start = Math.floor((Date.now() - SAMPLES * STEP) / BLOCK) * BLOCK;
  let stamp = start;
  const stamped: LogProducer = {
    send: (t, records) =>
      writers.producer.send(
        t,
        records.map((r) => ({ ...r, timestamp: stamp })),
      ),
    partitions: (t) => writers.producer.partitions(t),
    close: () => writers.producer.close(),
  };
  const serdes = createSerdes({ registryUrl });
  const sink = new LogSampleSink({ producer: stamped, codec: sampleBatchCodec(serdes.sampleBatch), topic });
  let total = 0;
  for (let from = 0; from < SAMPLES; from += PER_WRITE) {
    const n = Math.min(PER_WRITE, SAMPLES - from);
    const series: WriteSeries[] = [];
    for (let i = 0; i < SERIES; i++) {
      const timestamps: number[] = [];
      const values: number[] = [];
      for (let k = 0; k < n; k++) {
        timestamps.push(start + (from + k) * STEP);
        values.push(i % 2 === 0 ? (from + k) * 10 + i : Math.round(Math.sin(i + from + k) * 1000) / 10);
      }
      series.push({
        labels: [
          { name: '__name__', value: `node_bench_metric_${i % 100}` },
          { name: 'instance', value: `host-${Math.floor(i / 100)}.example.net:9100` },
          { name: 'job', value: 'node' },
        ],
        timestamps,
        values,
        histograms: [],
        exemplars: 0,
      });
      total += n;
    }
    stamp = start + (from + n - 1) * STEP;
    await sink.write(TENANT, series);
  }
  await writers.producer.close();
  return total;
}

async function endOffsets(brokers: string[], topic: string): Promise<Map<number, number>> {
  const admin = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** (3) The block builder over the whole topic: samples per CPU second of this process. */
async function builderThroughput(brokers: string[], registryUrl: string, topic: string, samples: number) {
  const ends = await endOffsets(brokers, topic);
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const builder = await runBlockBuilder({
    brokers,
    registryUrl,
    storeUrl: `file://${path.join(dir, 'builder-bucket')}`,
    topic,
    blockDuration: BLOCK,
    outOfOrderWindow: 60_000,
    logger,
    groupId: `bench-${randomUUID()}`,
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = builder.status();
    const done = [...ends].every(
      ([p, end]) => (status.find((s) => s.partition === p)?.lastRead ?? -1) >= end - 1,
    );
    if (done) break;
    if (Date.now() > deadline)
      throw new Error(`builder did not read the topic in 120 s: ${JSON.stringify(status)}`);
    await sleep(20);
  }
  const seconds = (performance.now() - wall) / 1000;
  const used = process.cpuUsage(cpu);
  const metric = await builder.registry.getSingleMetric('promstream_block_builder_samples_total')?.get();
  const counted = metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
  await builder.stop();
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { samples: counted, written: samples, seconds, cpuSeconds, perCore: counted / cpuSeconds };
}

/** (2) Replay of the whole topic into an empty bucket. */
async function replayRate(brokers: string[], registryUrl: string, topic: string) {
  const cpu = process.cpuUsage();
  const result = await runReplay({
    brokers,
    registryUrl,
    storeUrl: `file://${path.join(dir, 'replay-bucket')}`,
    topic,
    blockDuration: BLOCK,
    outOfOrderWindow: 60_000,
    logger,
  });
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { ...result, cpuSeconds, rate: result.samples / result.seconds };
}

/**
 * (2b) The same replay with a record decoder that decodes every XOR chunk
 * through one reused XorIterator instead of a new one per chunk (what
 * `decodeXorChunk` does now). Measures the fix proposed in the closing note.
 */
async function replayReusedIterator(brokers: string[], registryUrl: string, topic: string) {
  const serdes = createSerdes({ registryUrl, autoRegister: false });
  const it = new XorIterator();
  const decoder: RecordDecoder = {
    async decode(value) {
      const batch = await serdes.sampleBatch.deserialize(topic, value);
      const out: DecodedBatch = { tenant: batch.tenant, series: [], skippedHistograms: 0 };
      for (const s of batch.series) {
        out.skippedHistograms += s.histograms?.length ?? 0;
        if (s.encoding !== 'XOR' || s.chunk.length === 0) continue;
        it.reset(s.chunk);
        const t = new Float64Array(it.numSamples);
        const v = new Float64Array(it.numSamples);
        let i = 0;
        while (it.next() !== ValueType.None) {
          t[i] = it.atT();
          v[i] = it.at();
          i++;
        }
        const err = it.err();
        if (err !== undefined) throw err;
        out.series.push({ labels: s.labels, t, v });
      }
      return out;
    },
  };
  const store = objectStoreFromUrl(`file://${path.join(dir, 'replay-reused-bucket')}`);
  const result = await replay({
    brokers,
    topic,
    blockDuration: BLOCK,
    outOfOrderWindow: 60_000,
    decoder,
    sink: new ObjectStoreBlockSink(store),
    state: new ObjectPartitionStateStore(store),
    logger,
  });
  return { ...result, rate: result.samples / result.seconds };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  let brokers: string[];
  let logName: string;
  if (process.env.KAFKA_BROKERS) {
    brokers = process.env.KAFKA_BROKERS.split(',');
    logName = `real Kafka at ${brokers.join(',')}`;
  } else {
    const broker = await startBrokerChild();
    cleanups.push(async () => {
      broker.child.kill('SIGTERM');
      await new Promise((r) => broker.child.once('exit', r));
    });
    brokers = broker.brokers;
    logName = `embedded broker at ${brokers[0]} (child process)`;
  }
  console.log(`log: ${logName}; store: file:// in ${dir}; registry: embedded`);
  const registry = await startRegistry({
    brokers,
    port: await freePort(),
    topic: `_schemas-bench-${randomUUID()}`,
    logger,
  });
  cleanups.push(() => registry.close());

  console.log(
    `(1) freshness: ${FRESHNESS_SECONDS} s of ${LOAD_SERIES} series every 100 ms, one probe at a time...`,
  );
  // BENCH_FRESHNESS_SECONDS=0 leaves it out (to profile the builder and replay alone).
  const fresh =
    FRESHNESS_SECONDS > 0
      ? await freshness(brokers, registry.url)
      : { probes: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, rate: 0 };

  const topic = `bench-build-${randomUUID()}`;
  console.log(
    `writing ${fmt(SERIES * SAMPLES)} samples (${fmt(SERIES)} series x ${SAMPLES}, ${PER_WRITE} per series per record) to the log...`,
  );
  const fillStart = performance.now();
  const written = await fillLog(brokers, registry.url, topic);
  const fillSeconds = (performance.now() - fillStart) / 1000;

  console.log('(3) block builder over the topic...');
  const build = await builderThroughput(brokers, registry.url, topic, written);
  // The variant runs first, so any warm-up (JIT, page cache) favours the real replay and the ratio is conservative.
  console.log('(2b) replay, chunks decoded through one reused XorIterator...');
  const reused = await replayReusedIterator(brokers, registry.url, topic);
  console.log('(2) replay of the topic into an empty bucket...');
  const rep = await replayRate(brokers, registry.url, topic);

  const rows: [string, string, string][] = [
    [
      'freshness p50 (ack -> /api/v1/query)',
      `${fmt(fresh.p50, 1)} ms`,
      `${fresh.probes} probes, max ${fmt(fresh.max, 1)} ms`,
    ],
    ['freshness p99', `${fmt(fresh.p99, 1)} ms`, `target <= 1000 ms; load ${fmt(fresh.rate)} samples/s`],
    [
      'replay rate',
      `${fmt(rep.rate)} samples/s`,
      `${fmt(rep.samples)} samples, ${rep.blocks} blocks, ${fmt(rep.seconds, 2)} s; target >= 1,000,000 (ratio ${fmt(rep.rate / 1e6, 2)})`,
    ],
    [
      'replay, reused XorIterator',
      `${fmt(reused.rate)} samples/s`,
      `the decode change proposed for decodeXorChunk (ratio ${fmt(reused.rate / rep.rate, 2)} to replay)`,
    ],
    ['replay per core', `${fmt(rep.samples / rep.cpuSeconds)} samples/s`, `${fmt(rep.cpuSeconds, 2)} CPU s`],
    [
      'block builder per core',
      `${fmt(build.perCore)} samples/s`,
      `${fmt(build.samples)} samples in ${fmt(build.cpuSeconds, 2)} CPU s (${fmt(build.seconds, 2)} s wall)`,
    ],
    [
      'log fill (producer)',
      `${fmt(written / fillSeconds)} samples/s`,
      `${fmt(written)} samples, ${fmt(fillSeconds, 2)} s`,
    ],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log('');
  console.log(`${'figure'.padEnd(w0)}  ${'value'.padStart(w1)}  notes`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  if (build.samples !== written)
    console.log(`note: the builder counted ${build.samples} of ${written} samples written`);
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
