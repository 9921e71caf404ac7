/**
 * Remote-write load: 100,000 series, one sample per series per request
 * (as a Prometheus shard sends), to the gateway (durable on the log) and to
 * Debian's Prometheus with its remote-write receiver, in the same run.
 * Prints samples per second for both and the ratio, and the bytes on the
 * log per sample against the remote-write payload bytes.
 *
 *   npm run bench -w @promstream/ingest   (KAFKA_BROKERS picks the log; else the testkit default)
 *   BENCH_SERIES, BENCH_ROUNDS, BENCH_BATCH, BENCH_CONCURRENCY override the shape.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findTool, freePort, logBackend } from '@promstream/testkit';
import pino from 'pino';
import snappy from 'snappy';
import { compress } from 'zstd-napi';
import { memorySerdes } from '../../test/helpers.js';
import { startTool } from '../../test/processes.js';
import type { LogProducer, LogRecord } from '../log/producer.js';
import { createLogWriters } from '../log/writers.js';
import type { WriteSeries } from '../remote-write/types.js';
import { encodeV1 } from '../remote-write/v1.js';
import { startGateway } from './server.js';

const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = Number(process.env.BENCH_BATCH ?? 2000); // Prometheus' max_samples_per_send default.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const METRICS = 100;

/** Named data shape: node-exporter-like, 100 metric names x hosts, 15 s apart, counters and gauges. */
function nodeLikeRequests(): Buffer[][] {
  const hosts = Math.ceil(SERIES / METRICS);
  const start = Date.UTC(2026, 0, 1);
  const rounds: Buffer[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = start + r * 15_000;
    const requests: Buffer[] = [];
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
        requests.push(snappy.compressSync(Buffer.from(encodeV1(batch))));
        batch = [];
      }
    }
    if (batch.length > 0) requests.push(snappy.compressSync(Buffer.from(encodeV1(batch))));
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
  for (let i = 0; i < n; i++) { const len = data.readUInt32BE(off); off += 4; requests.push(data.subarray(off, off + len)); off += len; }
  rounds.push(requests);
}
(async () => {
  let failed = 0;
  const started = performance.now();
  for (const requests of rounds) {
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const body = requests[next++];
        for (let attempt = 0; ; attempt++) {
          const res = await fetch(url, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
          });
          await res.arrayBuffer();
          if (res.status === 204 || res.status === 200) break;
          if ((res.status < 500 && res.status !== 429) || attempt > 5) { failed++; break; }
        }
      }
    };
    await Promise.all(Array.from({ length: Number(concurrency) }, worker));
  }
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, failed }));
})();
`;

function writeRounds(file: string, rounds: Buffer[][]): void {
  const parts: Buffer[] = [];
  for (const r of rounds) {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(r.length);
    parts.push(n);
    for (const b of r) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  writeFileSync(file, Buffer.concat(parts));
}

/** Sends every round in order (all requests of a round before the next), CONCURRENCY at a time. */
function load(url: string, roundsFile: string): Promise<{ seconds: number; failed: number }> {
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
    if (this.measuring) this.sends.push(Buffer.concat(records.flatMap((r) => [r.key, r.value])));
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

async function main(): Promise<void> {
  const total = SERIES * ROUNDS;
  console.log(
    `shape: ${SERIES} series x ${ROUNDS} rounds, 1 sample per series per request, ${BATCH} series per request, ${CONCURRENCY} concurrent senders`,
  );
  const rounds = nodeLikeRequests();
  const payloadBytes = rounds.flat().reduce((n, b) => n + b.length, 0);
  const rawBytes = rounds.flat().reduce((n, b) => n + snappy.uncompressSync(b, { asBuffer: true }).length, 0);
  const work = mkdtempSync(path.join(tmpdir(), 'ingest-bench-'));
  const roundsFile = path.join(work, 'rounds.bin');
  const warmFile = path.join(work, 'warm.bin');
  writeRounds(roundsFile, rounds);
  writeRounds(warmFile, [rounds[0]!.slice(0, 1)]);

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
  const gateway = await startGateway({ sink, producer: writers.producer, port: 0, logger });
  // Warm up: connect, create the topic, register the schema.
  await load(`${gateway.url}/api/v1/write`, warmFile);
  measuring.measuring = true;
  const before = topicBytesOnDisk(topic);
  const cpuBefore = process.cpuUsage();
  const ours = await load(`${gateway.url}/api/v1/write`, roundsFile);
  const cpu = process.cpuUsage(cpuBefore);
  const oursCpu = (cpu.user + cpu.system) / 1e6;
  const after = topicBytesOnDisk(topic);
  const diskBytes = before === undefined || after === undefined ? undefined : after - before;
  await gateway.close();
  await backend.stop();
  measuring.measuring = false;
  const oursRate = total / ours.seconds;
  console.log(
    `gateway (${backend.kind} log ${backend.brokers.join(',')}, acks=all): ${Math.round(oursRate)} samples/s (${ours.seconds.toFixed(2)} s, ${ours.failed} failed requests), ${((oursCpu * 1e6) / total).toFixed(1)} CPU µs/sample`,
  );

  const prometheus = findTool('prometheus');
  let ratio: number | undefined;
  if (prometheus === undefined) {
    console.log('prometheus: not installed, no reference figure (infra/scripts/debian-packages.sh)');
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'ingest-bench-prom-'));
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
    try {
      await load(`http://127.0.0.1:${port}/api/v1/write`, warmFile);
      const promCpuBefore = cpuSeconds(prom.child.pid!);
      const ref = await load(`http://127.0.0.1:${port}/api/v1/write`, roundsFile);
      const promCpuAfter = cpuSeconds(prom.child.pid!);
      const refRate = total / ref.seconds;
      ratio = oursRate / refRate;
      const promCpu =
        promCpuBefore === undefined || promCpuAfter === undefined ? undefined : promCpuAfter - promCpuBefore;
      console.log(
        `prometheus 2.42 remote-write receiver: ${Math.round(refRate)} samples/s (${ref.seconds.toFixed(2)} s, ${ref.failed} failed requests)${promCpu === undefined ? '' : `, ${((promCpu * 1e6) / total).toFixed(1)} CPU µs/sample`}`,
      );
      if (promCpu !== undefined && promCpu > 0) {
        console.log(
          `CPU efficiency ratio gateway / prometheus (samples per CPU-second): ${(promCpu / oursCpu).toFixed(2)}`,
        );
      }
    } finally {
      await prom.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rmSync(work, { recursive: true, force: true });
  if (ratio !== undefined)
    console.log(`throughput ratio gateway / prometheus: ${ratio.toFixed(2)} (target >= 1.0)`);
  const measured = measuring.sizes();
  console.log(
    `remote-write payload: ${(payloadBytes / total).toFixed(2)} B/sample snappy (${(rawBytes / total).toFixed(2)} B/sample protobuf)`,
  );
  console.log(
    `on the log, estimated (zstd per send): ${(measured.zstdBytes / total).toFixed(2)} B/sample (${(measured.valueBytes / total).toFixed(2)} B/sample before batch compression)`,
  );
  if (diskBytes !== undefined) {
    console.log(
      `on the log, measured in the Kafka segment files: ${(diskBytes / total).toFixed(2)} B/sample`,
    );
  }
  const logBytes = diskBytes ?? measured.zstdBytes;
  const basis = diskBytes === undefined ? 'estimated' : 'segment files';
  console.log(
    `bytes ratio log / remote-write payload: ${(logBytes / payloadBytes).toFixed(2)} (target <= 0.5; ${basis})`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
