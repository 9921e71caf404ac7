/**
 * Produce and consume throughput of the embedded broker against Apache
 * Kafka on the same machine, with the same client (kafkajs), acks=all.
 * Run with `npm run bench -w @promstream/infra`; the real Kafka comes from
 * KAFKA_BROKERS (its figures and the ratio are skipped with a note when
 * that is unset). Shapes: 100-byte and 1 KiB records, 1000 records per
 * send, four sends in flight.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TOTAL_BYTES = Number(process.env.BENCH_BYTES ?? 64 << 20);
const PER_SEND = 1000;
const IN_FLIGHT = 4;

interface Figures {
  produceRecordsPerSec: number;
  produceMBPerSec: number;
  produceP99Ms: number;
  consumeRecordsPerSec: number;
  consumeMBPerSec: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`broker on ${port} did not start`);
}

/** The embedded broker in its own process, as `promstream broker` runs it. */
async function startEmbedded(): Promise<{ brokers: string[]; stop(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'broker-bench-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=@promstream/source',
      '--import',
      'tsx',
      path.join(repoRoot, 'bin', 'promstream.js'),
      'broker',
      '--data',
      dir,
      '--port',
      String(port),
    ],
    { cwd: repoRoot, stdio: 'ignore' },
  );
  await waitPort(port);
  return {
    brokers: [`127.0.0.1:${port}`],
    stop: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function run(brokers: string[], recordSize: number): Promise<Figures> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench' });
  const topic = `bench-${recordSize}-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 1 },
      { topic: `${topic}-warm`, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  const records = Math.floor(TOTAL_BYTES / recordSize / PER_SEND) * PER_SEND;
  const value = Buffer.alloc(recordSize, 'x');
  const messages = Array.from({ length: PER_SEND }, () => ({ value }));
  const producer = kafka.producer();
  await producer.connect();
  // Warm up both sides (JIT, page cache, connections) on another topic: the
  // reference Kafka is a long-running JVM, the embedded broker a fresh process.
  const warmTopic = `${topic}-warm`;
  for (let i = 0; i < 50; i++) await producer.send({ topic: warmTopic, acks: -1, messages });
  const latencies: number[] = [];
  let sent = 0;
  const started = process.hrtime.bigint();
  const lane = async () => {
    while (sent < records) {
      sent += PER_SEND;
      const t0 = process.hrtime.bigint();
      await producer.send({ topic, acks: -1, messages });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const produceSec = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.disconnect();
  latencies.sort((a, b) => a - b);

  const consumer = kafka.consumer({
    groupId: `bench-${randomUUID()}`,
    maxBytesPerPartition: 8 << 20,
    maxBytes: 16 << 20,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let got = 0;
  let t1 = 0n;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (t1 === 0n) t1 = process.hrtime.bigint();
        got += batch.messages.length;
        if (got >= sent) resolve();
      },
    });
  });
  const consumeSec = Number(process.hrtime.bigint() - t1) / 1e9;
  await consumer.disconnect();
  const mb = (sent * recordSize) / (1 << 20);
  return {
    produceRecordsPerSec: sent / produceSec,
    produceMBPerSec: mb / produceSec,
    produceP99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    consumeRecordsPerSec: sent / consumeSec,
    consumeMBPerSec: mb / consumeSec,
  };
}

function line(name: string, f: Figures): string {
  return `${name.padEnd(16)} produce ${f.produceRecordsPerSec.toFixed(0).padStart(9)} rec/s ${f.produceMBPerSec.toFixed(1).padStart(7)} MB/s p99 ${f.produceP99Ms.toFixed(1).padStart(7)} ms | consume ${f.consumeRecordsPerSec.toFixed(0).padStart(9)} rec/s ${f.consumeMBPerSec.toFixed(1).padStart(7)} MB/s`;
}

async function main(): Promise<void> {
  const real = process.env.KAFKA_BROKERS?.split(',').map((s) => s.trim());
  console.log(
    `kafkajs, acks=all, ${PER_SEND} records per send, ${IN_FLIGHT} sends in flight, ${TOTAL_BYTES >> 20} MiB per shape`,
  );
  for (const size of [100, 1024]) {
    const embedded = await startEmbedded();
    let e: Figures;
    try {
      e = await run(embedded.brokers, size);
    } finally {
      embedded.stop();
    }
    console.log(line(`embedded ${size} B`, e));
    if (real === undefined) {
      console.log('  (no reference: KAFKA_BROKERS is not set, so no ratio)');
      continue;
    }
    const k = await run(real, size);
    console.log(line(`kafka ${size} B`, k));
    console.log(
      `  ratio embedded/kafka: produce ${(e.produceRecordsPerSec / k.produceRecordsPerSec).toFixed(2)}, consume ${(e.consumeRecordsPerSec / k.consumeRecordsPerSec).toFixed(2)}, p99 latency ${(e.produceP99Ms / k.produceP99Ms).toFixed(2)} (lower is better)`,
    );
  }
}

await main();
