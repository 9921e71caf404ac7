/**
 * Remote-write load: 100,000 series, one sample per series per request
 * (as a Prometheus shard sends), to the gateway (durable on the log) and to
 * Prometheus with its remote-write receiver (3.16, testkit's reference, else
 * the one on PATH; its version is printed), in the same run. Prints samples
 * per second for both and the ratio, and the bytes on the log per sample
 * against the remote-write payload bytes. Only samples of requests answered
 * with success count as delivered, and a run with any failed request exits
 * non-zero. The CPU per sample on our side is the gateway's plus the
 * broker's (its process: the embedded broker the bench starts, or
 * BENCH_BROKER_PID / kafka.sh's pid file for a real Kafka), as Prometheus'
 * includes its storage.
 *
 * Both receivers first take one full warm-up round (the gateway connects,
 * registers its schema and compiles its hot paths; Prometheus creates every
 * series, as a long-running receiver has). Then BENCH_REPEATS measured runs
 * alternate between the two (ABBA order, so a drift of the shared machine
 * hits both alike), each with fresh timestamps; the figures are the medians.
 *
 *   npm run bench -w @promstream/ingest   (KAFKA_BROKERS picks the log; else the testkit default)
 *   BENCH_SERIES, BENCH_ROUNDS, BENCH_BATCH, BENCH_CONCURRENCY, BENCH_REPEATS override the shape.
 *   BENCH_CPU_PROFILE=<file> writes a CPU profile of the gateway's timed runs only.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LogProducer, LogRecord } from '@promstream/log';
import {
  findTool,
  freePort,
  type LogBackend,
  logBackend,
  prometheusReference,
  prometheusVersion,
} from '@promstream/testkit';
import pino from 'pino';
import snappy from 'snappy';
import { compress } from 'zstd-napi';
import { memorySerdes } from '../../test/helpers.js';
import { startTool } from '../../test/processes.js';
import { createLogWriters } from '../log/writers.js';
import type { WriteSeries } from '../remote-write/types.js';
import { encodeV1 } from '../remote-write/v1.js';
import { startGateway } from './server.js';

const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = Number(process.env.BENCH_BATCH ?? 2000); // Prometheus' max_samples_per_send default.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const METRICS = 100;

/** One remote-write request: its snappy body and the samples in it. */
interface Request {
  body: Buffer;
  samples: number;
}

/**
 * Named data shape: node-exporter-like, 100 metric names x hosts, 15 s apart,
 * counters and gauges. Rounds `first` to `first + count - 1` of the series' history.
 */
function nodeLikeRequests(first: number, count: number): Request[][] {
  const hosts = Math.ceil(SERIES / METRICS);
  const start = Date.UTC(2026, 0, 1);
  const rounds: Request[][] = [];
  for (let r = first; r < first + count; r++) {
    const t = start + r * 15_000;
    const requests: Request[] = [];
    let batch: WriteSeries[] = [];
    for (let i = 0; i < SERIES; i++) {
      const metric = i % METRICS;
      const host = Math.floor(i / METRICS) % hosts;
      const counter = metric % 2 === 0;
      batch.push({
        labels: [
          { name: '__name__', value: `node_bench_metric_${metric}${counter ? '_total' : ''}` },
          { name: 'instance', value: `host-${host}.example.net:9100` },
          { name: 'job', value: 'node' },
          { name: 'region', value: `eu-west-${host % 3}` },
        ],
        timestamps: [t],
        values: [counter ? i * 10 + r * 37 : Math.round(Math.sin(i + r) * 1000) / 10],
        histograms: [],
        exemplars: 0,
      });
      if (batch.length === BATCH) {
        requests.push({ body: snappy.compressSync(Buffer.from(encodeV1(batch))), samples: batch.length });
        batch = [];
      }
    }
    if (batch.length > 0)
      requests.push({ body: snappy.compressSync(Buffer.from(encodeV1(batch))), samples: batch.length });
    rounds.push(requests);
  }
  return rounds;
}

// The load generator runs in a child process, so it takes no CPU from the
// gateway's process and the CPU each receiver spends can be read per process.
// Plain JavaScript, so the child needs no TypeScript loader.
const loadScript = `
const fs = require('node:fs');
const [url, file, concurrency] = process.argv.slice(1);
const data = fs.readFileSync(file);
const rounds = [];
for (let off = 0; off < data.length; ) {
  const n = data.readUInt32BE(off); off += 4;
  const requests = [];
  for (let i = 0; i < n; i++) {
    const samples = data.readUInt32BE(off); off += 4;
    const len = data.readUInt32BE(off); off += 4;
    requests.push({ samples, body: data.subarray(off, off + len) }); off += len;
  }
  rounds.push(requests);
}
(async () => {
  let failed = 0;
  let delivered = 0;
  let lastError = '';
  const started = performance.now();
  for (const requests of rounds) {
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const { body, samples } = requests[next++];
        for (let attempt = 0; ; attempt++) {
          const res = await fetch(url, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
          });
          const text = await res.text();
          // Only an answer of success delivers the request's samples.
          if (res.status === 204 || res.status === 200) { delivered += samples; break; }
          if ((res.status < 500 && res.status !== 429) || attempt > 5) {
            failed++;
            lastError = res.status + ' ' + text.slice(0, 200);
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Number(concurrency) }, worker));
  }
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, failed, delivered, lastError }));
})();
`;

function writeRounds(file: string, rounds: Request[][]): void {
  const parts: Buffer[] = [];
  for (const r of rounds) {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(r.length);
    parts.push(n);
    for (const q of r) {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(q.samples, 0);
      head.writeUInt32BE(q.body.length, 4);
      parts.push(head, q.body);
    }
  }
  writeFileSync(file, Buffer.concat(parts));
}

/** What one load run did: its time, failed requests and samples answered with success. */
interface LoadResult {
  seconds: number;
  failed: number;
  delivered: number;
  lastError: string;
}

/** Sends every round in order (all requests of a round before the next), CONCURRENCY at a time. */
function load(url: string, roundsFile: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', loadScript, url, roundsFile, String(CONCURRENCY)],
      { maxBuffer: 1 << 20 },
      (err, stdout) => (err === null ? resolve(JSON.parse(stdout)) : reject(err)),
    );
  });
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) in clock ticks of 1/100 s.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Keeps what goes on the log so its size can be estimated after the timed
 * run (compressing inside the run would take CPU from the gateway).
 */
class MeasuringProducer implements LogProducer {
  private sends: Buffer[] = [];
  measuring = false;
  constructor(private readonly inner: LogProducer) {}
  async send(topic: string, records: readonly LogRecord[]): Promise<void> {
    await this.inner.send(topic, records);
    if (this.measuring)
      this.sends.push(
        Buffer.concat(records.flatMap((r) => [r.key ?? Buffer.alloc(0), r.value ?? Buffer.alloc(0)])),
      );
  }
  /** Bytes of the record keys and values, and their size zstd-compressed one send at a time. */
  sizes(): { valueBytes: number; zstdBytes: number } {
    let valueBytes = 0;
    let zstdBytes = 0;
    for (const b of this.sends) {
      valueBytes += b.length;
      zstdBytes += compress(b, { compressionLevel: 3 }).length;
    }
    return { valueBytes, zstdBytes };
  }
  partitions(topic: string): Promise<number> {
    return this.inner.partitions(topic);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Bytes of a topic's segment files when the Kafka log directory is on this
 * machine (BENCH_KAFKA_LOG_DIR, or where infra/scripts/kafka.sh keeps it).
 */
function topicBytesOnDisk(topic: string): number | undefined {
  const dir =
    process.env.BENCH_KAFKA_LOG_DIR ??
    path.join(process.env.PROMSTREAM_RUN ?? path.join(tmpdir(), 'promstream-run'), 'kafka', 'logs');
  if (!existsSync(dir)) return undefined;
  let bytes = 0;
  let found = false;
  for (const d of readdirSync(dir)) {
    if (!d.startsWith(`${topic}-`)) continue;
    found = true;
    for (const f of readdirSync(path.join(dir, d))) {
      if (f.endsWith('.log')) bytes += statSync(path.join(dir, d, f)).size;
    }
  }
  return found ? bytes : undefined;
}

interface Run {
  rate: number;
  cpuPerSample: number | undefined;
  failed: number;
  lastError: string;
}

/**
 * The broker's process, when its CPU can be read here: the embedded broker
 * the bench started, BENCH_BROKER_PID, or the pid file of infra/scripts/kafka.sh.
 */
function brokerPid(backendPid: number | undefined): number | undefined {
  if (backendPid !== undefined) return backendPid;
  if (process.env.BENCH_BROKER_PID) return Number(process.env.BENCH_BROKER_PID);
  const file = path.join(
    process.env.PROMSTREAM_RUN ?? path.join(tmpdir(), 'promstream-run'),
    'kafka',
    'kafka.pid',
  );
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return cpuSeconds(pid) === undefined ? undefined : pid;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function describeRuns(runs: readonly Run[]): string {
  return runs
    .map(
      (r) =>
        `${Math.round(r.rate)}${r.cpuPerSample === undefined ? '' : ` (${r.cpuPerSample.toFixed(1)} µs)`}`,
    )
    .join(', ');
}

/** The request files of the warm-up and of every measured run, and the payload sizes of one run. */
interface Workload {
  work: string;
  warmFile: string;
  runFiles: string[];
  payloadBytes: number;
  rawBytes: number;
}

/** Encodes the warm-up round and REPEATS runs of ROUNDS rounds into files for the load child. */
function prepareWorkload(): Workload {
  const work = mkdtempSync(path.join(tmpdir(), 'ingest-bench-'));
  const warmFile = path.join(work, 'warm.bin');
  writeRounds(warmFile, nodeLikeRequests(0, 1));
  const runFiles: string[] = [];
  let payloadBytes = 0;
  let rawBytes = 0;
  for (let i = 0; i < REPEATS; i++) {
    const rounds = nodeLikeRequests(1 + i * ROUNDS, ROUNDS);
    if (i === 0) {
      payloadBytes = rounds.flat().reduce((n, q) => n + q.body.length, 0);
      rawBytes = rounds
        .flat()
        .reduce((n, q) => n + snappy.uncompressSync(q.body, { asBuffer: true }).length, 0);
    }
    const file = path.join(work, `run-${i}.bin`);
    writeRounds(file, rounds);
    runFiles.push(file);
  }
  return { work, warmFile, runFiles, payloadBytes, rawBytes };
}

/** The gateway under test, on the picked log, with the producer that measures what goes on it. */
interface Ours {
  backend: LogBackend;
  gateway: Awaited<ReturnType<typeof startGateway>>;
  url: string;
  topic: string;
  measuring: MeasuringProducer;
  brokerProcess: number | undefined;
}

/** Starts the log backend and a gateway writing to a fresh topic on it. */
async function startOurs(): Promise<Ours> {
  const picked = await logBackend();
  if (!picked.ok) throw new Error(`no log for the benchmark: ${picked.reason}`);
  const backend = picked.backend;
  const logger = pino({ level: 'warn' });
  const topic = `ingest-bench-${Date.now().toString(36)}`;
  const writers = createLogWriters({
    brokers: backend.brokers,
    serdes: memorySerdes(),
    samplesTopic: topic,
    samplePartitions: 8,
    logger,
  });
  const measuring = new MeasuringProducer(writers.producer);
  const { LogSampleSink } = await import('../log/sample-sink.js');
  const { sampleBatchCodec } = await import('../log/codec.js');
  const sink = new LogSampleSink({
    producer: measuring,
    codec: sampleBatchCodec(memorySerdes().sampleBatch),
    topic,
  });
  // The shape's timestamps start at 2026-01-01: a window into the past as wide as a backfill's.
  const gateway = await startGateway({
    sink,
    producer: writers.producer,
    port: 0,
    logger,
    sampleWindow: () => ({ pastMs: 100 * 365 * 86_400_000, futureMs: 600_000 }),
  });
  const url = `${gateway.url}/api/v1/write`;
  return { backend, gateway, url, topic, measuring, brokerProcess: brokerPid(backend.pid) };
}

/** The reference Prometheus with its remote-write receiver, when one is installed. */
interface Reference {
  prom: Awaited<ReturnType<typeof startTool>> | undefined;
  url: string;
  dir: string;
  label: string;
}

/** Starts testkit's reference Prometheus (else the one on PATH) with its remote-write receiver. */
async function startReference(): Promise<Reference> {
  const reference = prometheusReference();
  const prometheus = reference.ok ? reference.backend.prometheus : findTool('prometheus');
  const version = prometheus === undefined ? undefined : prometheusVersion(prometheus);
  const label = `prometheus ${version ?? '(version unknown)'} remote-write receiver`;
  if (!reference.ok) console.log(`reference: ${reference.reason}; taking the prometheus on PATH`);
  const dir = mkdtempSync(path.join(tmpdir(), 'ingest-bench-prom-'));
  if (prometheus === undefined) {
    console.log('prometheus: not installed, no reference figure (infra/scripts/prometheus.sh install)');
    return { prom: undefined, url: '', dir, label };
  }
  const port = await freePort();
  writeFileSync(path.join(dir, 'prometheus.yml'), 'global: { scrape_interval: 1m }\n');
  const prom = await startTool(
    prometheus,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ],
    port,
  );
  return { prom, url: `http://127.0.0.1:${port}/api/v1/write`, dir, label };
}

/** What the measured runs found on both sides. */
interface Measured {
  ours: Run[];
  refs: Run[];
  gatewayOnly: number[];
  oursDelivered: number;
  /** Bytes added to the topic's segment files, when they can be read here. */
  diskBytes: number | undefined;
}

/**
 * Times the gateway on one run file: its rate, its CPU and the broker's per
 * delivered sample, and the bytes the run added on disk (a CPU profile of it
 * when BENCH_CPU_PROFILE names a file).
 */
async function runGateway(
  ours: Ours,
  file: string,
  m: Measured,
  profiler: Session | undefined,
): Promise<void> {
  const profileFile = process.env.BENCH_CPU_PROFILE;
  if (profiler !== undefined) await profiler.post('Profiler.start');
  ours.measuring.measuring = true;
  const before = topicBytesOnDisk(ours.topic);
  const cpuBefore = process.cpuUsage();
  const brokerBefore = ours.brokerProcess === undefined ? undefined : cpuSeconds(ours.brokerProcess);
  const r = await load(ours.url, file);
  const cpu = process.cpuUsage(cpuBefore);
  const brokerAfter = ours.brokerProcess === undefined ? undefined : cpuSeconds(ours.brokerProcess);
  const after = topicBytesOnDisk(ours.topic);
  ours.measuring.measuring = false;
  if (profiler !== undefined && profileFile !== undefined) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
  }
  m.diskBytes =
    before === undefined || after === undefined || m.diskBytes === undefined
      ? undefined
      : m.diskBytes + after - before;
  // The gateway's CPU and the broker's, per delivered sample; unknown without the broker's.
  const brokerCpu =
    brokerBefore === undefined || brokerAfter === undefined ? undefined : (brokerAfter - brokerBefore) * 1e6;
  m.ours.push({
    rate: r.delivered / r.seconds,
    cpuPerSample: brokerCpu === undefined ? undefined : (cpu.user + cpu.system + brokerCpu) / r.delivered,
    failed: r.failed,
    lastError: r.lastError,
  });
  m.gatewayOnly.push((cpu.user + cpu.system) / r.delivered);
  m.oursDelivered += r.delivered;
}

/** Times the reference Prometheus on one run file (nothing when none is installed). */
async function runPrometheus(ref: Reference, file: string, m: Measured): Promise<void> {
  if (ref.prom === undefined) return;
  const before = cpuSeconds(ref.prom.child.pid!);
  const r = await load(ref.url, file);
  const after = cpuSeconds(ref.prom.child.pid!);
  m.refs.push({
    rate: r.delivered / r.seconds,
    cpuPerSample:
      before === undefined || after === undefined ? undefined : ((after - before) * 1e6) / r.delivered,
    failed: r.failed,
    lastError: r.lastError,
  });
}

/** One warm-up round for both receivers, then REPEATS measured runs each in ABBA order. */
async function measure(ours: Ours, ref: Reference, work: Workload): Promise<Measured> {
  const m: Measured = { ours: [], refs: [], gatewayOnly: [], oursDelivered: 0, diskBytes: 0 };
  const profiler = process.env.BENCH_CPU_PROFILE === undefined ? undefined : new Session();
  if (profiler !== undefined) {
    profiler.connect();
    await profiler.post('Profiler.enable');
  }
  await load(ours.url, work.warmFile);
  if (ref.prom !== undefined) await load(ref.url, work.warmFile);
  for (let i = 0; i < REPEATS; i++) {
    const file = work.runFiles[i]!;
    if (i % 2 === 0) {
      await runGateway(ours, file, m, profiler);
      await runPrometheus(ref, file, m);
    } else {
      await runPrometheus(ref, file, m);
      await runGateway(ours, file, m, profiler);
    }
  }
  return m;
}

/** Prints the rates, CPU per sample and ratios of both receivers; a failed request fails the run. */
function reportRates(ours: Ours, ref: Reference, m: Measured): void {
  const oursRate = median(m.ours.map((r) => r.rate));
  const oursCpus = m.ours.flatMap((r) => (r.cpuPerSample === undefined ? [] : [r.cpuPerSample]));
  const oursCpu = oursCpus.length === m.ours.length ? median(oursCpus) : undefined;
  const oursFailed = m.ours.reduce((n, r) => n + r.failed, 0);
  const { backend, brokerProcess } = ours;
  const brokerNote =
    brokerProcess === undefined
      ? 'broker CPU unknown (set BENCH_BROKER_PID)'
      : backend.kind === 'embedded'
        ? `gateway + embedded broker pid ${brokerProcess}`
        : `gateway + broker pid ${brokerProcess}; a shared broker's CPU includes other clients' load`;
  console.log(
    `gateway (${backend.kind} log ${backend.brokers.join(',')}, acks=all): median ${Math.round(oursRate)} delivered samples/s, ${oursCpu === undefined ? '?' : oursCpu.toFixed(1)} CPU µs/sample (${brokerNote}; gateway alone ${median(m.gatewayOnly).toFixed(1)}), ${oursFailed} failed requests [runs: ${describeRuns(m.ours)}]`,
  );
  if (m.refs.length > 0) {
    const refRate = median(m.refs.map((r) => r.rate));
    const cpus = m.refs.flatMap((r) => (r.cpuPerSample === undefined ? [] : [r.cpuPerSample]));
    const refCpu = cpus.length === m.refs.length ? median(cpus) : undefined;
    console.log(
      `${ref.label}: median ${Math.round(refRate)} delivered samples/s${refCpu === undefined ? '' : `, ${refCpu.toFixed(1)} CPU µs/sample`}, ${m.refs.reduce((n, r) => n + r.failed, 0)} failed requests [runs: ${describeRuns(m.refs)}]`,
    );
    if (refCpu !== undefined && oursCpu !== undefined) {
      console.log(
        `CPU efficiency ratio gateway+broker / prometheus (samples per CPU-second): ${(refCpu / oursCpu).toFixed(2)}`,
      );
    } else console.log('CPU efficiency ratio: not measured (a process CPU could not be read)');
    console.log(`throughput ratio gateway / prometheus: ${(oursRate / refRate).toFixed(2)} (target >= 1.0)`);
  }
  const refFailed = m.refs.reduce((n, r) => n + r.failed, 0);
  if (oursFailed > 0 || refFailed > 0) {
    const last = [...m.ours, ...m.refs].map((r) => r.lastError).find((e) => e !== '');
    console.error(
      `FAILED: ${oursFailed} gateway and ${refFailed} ${ref.label} requests failed (last: ${last}); the rates above count only delivered samples`,
    );
    process.exitCode = 1;
  }
}

/** Prints the bytes per sample of the remote-write payload and on the log, and their ratio. */
function reportBytes(ours: Ours, work: Workload, m: Measured): void {
  const total = SERIES * ROUNDS;
  const measured = ours.measuring.sizes();
  // Only delivered samples reached the log.
  const sent = m.oursDelivered;
  console.log(
    `remote-write payload: ${(work.payloadBytes / total).toFixed(2)} B/sample snappy (${(work.rawBytes / total).toFixed(2)} B/sample protobuf)`,
  );
  console.log(
    `on the log, estimated (zstd per send): ${(measured.zstdBytes / sent).toFixed(2)} B/sample (${(measured.valueBytes / sent).toFixed(2)} B/sample before batch compression)`,
  );
  if (m.diskBytes !== undefined) {
    console.log(
      `on the log, measured in the Kafka segment files: ${(m.diskBytes / sent).toFixed(2)} B/sample`,
    );
  }
  const logPerSample = (m.diskBytes ?? measured.zstdBytes) / sent;
  const basis = m.diskBytes === undefined ? 'estimated' : 'segment files';
  console.log(
    `bytes ratio log / remote-write payload: ${(logPerSample / (work.payloadBytes / total)).toFixed(2)} (target <= 0.5; ${basis})`,
  );
}

async function main(): Promise<void> {
  console.log(
    `shape: ${SERIES} series x ${ROUNDS} rounds, 1 sample per series per request, ${BATCH} series per request, ${CONCURRENCY} concurrent senders; 1 warm-up round, ${REPEATS} measured runs per receiver, alternating`,
  );
  const work = prepareWorkload();
  const ours = await startOurs();
  const ref = await startReference();
  let m: Measured;
  try {
    m = await measure(ours, ref, work);
  } finally {
    await ours.gateway.close();
    await ours.backend.stop();
    await ref.prom?.stop();
    rmSync(ref.dir, { recursive: true, force: true });
    rmSync(work.work, { recursive: true, force: true });
  }
  reportRates(ours, ref, m);
  reportBytes(ours, work, m);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
