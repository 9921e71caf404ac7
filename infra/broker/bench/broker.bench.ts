/**
 * Produce and consume throughput of the embedded broker against Apache
 * Kafka on the same machine, with the same client (kafkajs), acks=all.
 * kafkajs is used directly here, not through @promstream/log, because it is
 * the reference client both brokers are measured with; the bench lives
 * outside src/ for that reason. Run with `npm run bench -w @promstream/broker`;
 * the real Kafka comes from
 * KAFKA_BROKERS (its figures and the ratio are skipped with a note when
 * that is unset). Shapes: 100-byte and 1 KiB records, 1000 records per
 * send, four sends in flight, one partition with one replica on both sides.
 *
 * Each shape runs BENCH_ROUNDS times (default 5), alternating which broker
 * goes first, and the median of each figure is reported, so that a burst
 * of load from elsewhere on the machine moves one round, not the result.
 * The embedded broker is one process for the whole run, as the reference
 * is one long-running JVM; both are warmed up before every measured run.
 * Consuming is timed from the first batch to the last (the records of the
 * first batch are not counted), over BENCH_CONSUME_PASSES reads of the
 * topic by fresh groups (default 3), median pass. Every record carries its
 * index; after each pass (outside the timing) the consumed records are
 * checked against the produced ones, offset by offset and byte by byte, and
 * any difference ends the bench with an error instead of a figure.
 * Every measured run starts with the page cache clean (`sync`), so that the
 * reference's writeback of what it did not fsync lands in its own runs and
 * not in the next one of either side.
 * After the kafkajs figures, the same shapes run through a thin client of
 * pre-built batches (broker-raw.bench.ts), where the brokers and not kafkajs
 * are the bound (BENCH_RAW=0 leaves that out, BENCH_KAFKAJS=0 the kafkajs part).
 * There the reference runs twice: as configured (it acknowledges acks=all
 * batches from the page cache) and with the topic set to `flush.messages=1`
 * (it fsyncs every append before answering, the promise the embedded broker
 * keeps), so that the durable paths are compared like for like too.
 * BENCH_TRACE=1 also prints, per side, what kafkajs saw of each request
 * kind (count, mean round trip, mean response size), how busy the client
 * was (CPU share and main-thread busy share), the embedded broker's own
 * handler time per API, and each broker's CPU time per MiB (from /proc; the
 * reference's pid is found with `ss`), to tell a client-bound phase from a
 * broker-bound one.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { type RawFigures, rawRun } from './broker-raw.bench.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TOTAL_BYTES = Number(process.env.BENCH_BYTES ?? 64 << 20);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const TRACE = process.env.BENCH_TRACE === '1';
const SIZES = (process.env.BENCH_SIZES ?? '100,1024').split(',').map(Number);
const CONSUME_PASSES = Math.max(1, Number(process.env.BENCH_CONSUME_PASSES ?? 3));
const RAW = process.env.BENCH_RAW !== '0';
const KAFKAJS = process.env.BENCH_KAFKAJS !== '0';
const PER_SEND = 1000;
const IN_FLIGHT = 4;

interface Figures {
  produceRecordsPerSec: number;
  produceMBPerSec: number;
  produceP99Ms: number;
  consumeRecordsPerSec: number;
  consumeMBPerSec: number;
}

/** What kafkajs reported about one request kind during a phase. */
interface RequestStats {
  count: number;
  ms: number;
  bytes: number;
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
async function startEmbedded(): Promise<{
  brokers: string[];
  metricsPort: number;
  pid: number | null;
  stop(): void;
}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'broker-bench-'));
  const port = await freePort();
  const metricsPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=@promstream/source',
      '--import',
      'tsx',
      ...(process.env.BENCH_BROKER_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? []),
      path.join(repoRoot, 'bin', 'promstream.js'),
      'broker',
      '--data',
      dir,
      '--port',
      String(port),
      '--metrics-port',
      String(metricsPort),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', process.env.BENCH_BROKER_STDERR ? 'inherit' : 'ignore'] },
  );
  await waitPort(port);
  return {
    brokers: [`127.0.0.1:${port}`],
    metricsPort,
    pid: child.pid ?? null,
    stop: () => {
      // SIGINT lets the broker stop cleanly (and write a CPU profile when asked for one).
      child.kill('SIGINT');
      const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(hard);
        rmSync(dir, { recursive: true, force: true });
      });
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function tracer(): {
  on(e: { payload: { apiName: string; duration: number; size: number } }): void;
  print(label: string): void;
} {
  const stats = new Map<string, RequestStats>();
  return {
    on: ({ payload }) => {
      const s = stats.get(payload.apiName) ?? { count: 0, ms: 0, bytes: 0 };
      s.count++;
      s.ms += payload.duration;
      s.bytes += payload.size;
      stats.set(payload.apiName, s);
    },
    print: (label) => {
      const parts = [...stats].map(
        ([api, s]) =>
          `${api} ${s.count}x ${(s.ms / s.count).toFixed(1)} ms ${(s.bytes / s.count / 1024).toFixed(1)} KiB`,
      );
      console.log(`    ${label}: ${parts.join(', ')}`);
    },
  };
}

/** Handler time the embedded broker reported per API so far (its /metrics histogram sums). */
async function brokerTimes(metricsPort: number | null): Promise<Map<string, { sec: number; count: number }>> {
  const out = new Map<string, { sec: number; count: number }>();
  if (metricsPort === null) return out;
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  for (const m of text.matchAll(
    /^promstream_broker_request_duration_seconds_(sum|count)\{api="(\w+)"\} (\S+)$/gm,
  )) {
    const e = out.get(m[2] as string) ?? { sec: 0, count: 0 };
    if (m[1] === 'sum') e.sec = Number(m[3]);
    else e.count = Number(m[3]);
    out.set(m[2] as string, e);
  }
  return out;
}

/** Mean broker-side handler time of one API between two scrapes, for the trace. */
function brokerMean(
  before: Map<string, { sec: number; count: number }>,
  after: Map<string, { sec: number; count: number }>,
  api: string,
): string {
  const a = after.get(api);
  if (a === undefined) return '';
  const b = before.get(api) ?? { sec: 0, count: 0 };
  const n = a.count - b.count;
  return n > 0 ? `, broker ${api} ${(((a.sec - b.sec) / n) * 1000).toFixed(1)} ms` : '';
}

/** CPU seconds a process has used so far (Linux /proc), or null when it cannot be read. */
function processCpu(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in ticks of 1/100 s
  } catch {
    return null;
  }
}

/** The pid of the process listening on a local TCP port (through `ss`), for the reference broker's CPU. */
function listenerPid(broker: string): number | null {
  const port = broker.split(':').pop();
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Writes every dirty page to disk before a measured run, so that no side's
 * deferred writeback falls into the other side's figures.
 */
function settleDisk(): void {
  try {
    execFileSync('sync');
  } catch {
    // Without `sync` the runs are only less isolated.
  }
}

/** Broker CPU per MiB moved between two readings, for the trace. */
function cpuPerMiB(before: number | null, after: number | null, mib: number): string {
  if (before === null || after === null) return '';
  return `, broker CPU ${(((after - before) * 1000) / mib).toFixed(1)} ms/MiB`;
}

/** Share of wall time the client process spent on the CPU since `from`. */
function cpuShare(from: NodeJS.CpuUsage, wallSec: number): string {
  const u = process.cpuUsage(from);
  return `${(((u.user + u.system) / 1e6 / wallSec) * 100).toFixed(0)}%`;
}

/** A mark for `busyShare`: the client's event-loop utilization so far. */
function loopMark(): EventLoopUtilization {
  return performance.eventLoopUtilization();
}

/**
 * Share of wall time the client's main thread was busy since the mark: near
 * 100 % means the client itself is the bound and a faster answer cannot help.
 */
function busyShare(from: EventLoopUtilization): string {
  return `${(performance.eventLoopUtilization(from).utilization * 100).toFixed(0)}%`;
}

async function run(
  brokers: string[],
  recordSize: number,
  side: string,
  metricsPort: number | null,
  brokerPid: number | null,
): Promise<Figures> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench' });
  const topic = `bench-${recordSize}-${randomUUID().slice(0, 8)}`;
  const warmTopic = `${topic}-warm`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 1, replicationFactor: 1 },
      { topic: warmTopic, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  const records = Math.floor(TOTAL_BYTES / recordSize / PER_SEND) * PER_SEND;
  // Every record carries its own index, so the consumed bytes can be checked one by one.
  const sends = Array.from({ length: records / PER_SEND }, (_, s) =>
    Array.from({ length: PER_SEND }, (_, i) => ({ value: recordValue(s * PER_SEND + i, recordSize) })),
  );
  const warmMessages = sends[0] as { value: Buffer }[];
  const producer = kafka.producer();
  await producer.connect();
  // Warm up both sides (JIT, page cache, connections) on another topic.
  for (let i = 0; i < 50; i++) await producer.send({ topic: warmTopic, acks: -1, messages: warmMessages });
  settleDisk();
  const produceTrace = tracer();
  const stopProduceTrace = TRACE ? producer.on(producer.events.REQUEST, produceTrace.on) : () => {};
  const latencies: number[] = [];
  const b0 = TRACE ? await brokerTimes(metricsPort) : new Map();
  const c0 = TRACE ? processCpu(brokerPid) : null;
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const loop0 = loopMark();
  const started = process.hrtime.bigint();
  const lane = async () => {
    while (sent < records) {
      const messages = sends[sent / PER_SEND] as { value: Buffer }[];
      sent += PER_SEND;
      const t0 = process.hrtime.bigint();
      await producer.send({ topic, acks: -1, messages });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const produceSec = Number(process.hrtime.bigint() - started) / 1e9;
  const produceCpu = `${cpuShare(cpu0, produceSec)}, main thread busy ${busyShare(loop0)}`;
  stopProduceTrace();
  const b1 = TRACE ? await brokerTimes(metricsPort) : new Map();
  const c1 = TRACE ? processCpu(brokerPid) : null;
  await producer.disconnect();
  latencies.sort((a, b) => a - b);

  // The topic is read CONSUME_PASSES times, each by a new group; the median pass counts.
  const consumeTrace = tracer();
  const rates: number[] = [];
  let consumeCpu = '';
  for (let pass = 0; pass < CONSUME_PASSES; pass++) {
    const done = await consumePass(kafka, topic, sent, consumeTrace);
    consumeCpu += `${consumeCpu === '' ? '' : ' / '}${done.cpu}`;
    rates.push(done.rate);
    checkConsumed(`${side} ${recordSize} B pass ${pass + 1}`, done.received, sent, recordSize);
  }
  const consumeRate = median(rates);
  const b2 = TRACE ? await brokerTimes(metricsPort) : new Map();
  const c2 = TRACE ? processCpu(brokerPid) : null;
  await admin.deleteTopics({ topics: [topic, warmTopic] }).catch(() => {});
  await admin.disconnect();
  if (TRACE) {
    const mib = (sent * recordSize) / (1 << 20);
    produceTrace.print(
      `${side} produce (client CPU ${produceCpu}${brokerMean(b0, b1, 'Produce')}${cpuPerMiB(c0, c1, mib)})`,
    );
    consumeTrace.print(
      `${side} consume (client CPU ${consumeCpu}${brokerMean(b1, b2, 'Fetch')}${brokerMean(b1, b2, 'OffsetCommit')}${cpuPerMiB(c1, c2, mib * CONSUME_PASSES)})`,
    );
  }
  const mb = (sent * recordSize) / (1 << 20);
  return {
    produceRecordsPerSec: sent / produceSec,
    produceMBPerSec: mb / produceSec,
    produceP99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    consumeRecordsPerSec: consumeRate,
    consumeMBPerSec: (consumeRate * recordSize) / (1 << 20),
  };
}

/**
 * Reads the whole topic once with a new consumer group. The clock starts when
 * the first batch arrives (group join and the first fetch are left out), so
 * that batch's records are left out of the rate too.
 */
async function consumePass(
  kafka: Kafka,
  topic: string,
  sent: number,
  consumeTrace: ReturnType<typeof tracer>,
): Promise<{ rate: number; cpu: string; received: { offset: string; value: Buffer | null }[][] }> {
  const consumer = kafka.consumer({
    groupId: `bench-${randomUUID()}`,
    maxBytesPerPartition: 8 << 20,
    maxBytes: 16 << 20,
  });
  if (TRACE) consumer.on(consumer.events.REQUEST, consumeTrace.on);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let got = 0;
  let first = 0;
  let t1 = 0n;
  // Kept by reference while timing, checked after.
  const received: { offset: string; value: Buffer | null }[][] = [];
  let cpu1 = process.cpuUsage();
  let loop1 = loopMark();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (t1 === 0n) {
          t1 = process.hrtime.bigint();
          cpu1 = process.cpuUsage();
          loop1 = loopMark();
          first = batch.messages.length;
        }
        got += batch.messages.length;
        received.push(batch.messages);
        if (got >= sent) resolve();
      },
    });
  });
  const consumeSec = Number(process.hrtime.bigint() - t1) / 1e9;
  const cpu = `${cpuShare(cpu1, consumeSec)} busy ${busyShare(loop1)}`;
  await consumer.disconnect();
  return { rate: (sent - first) / consumeSec, cpu, received };
}

/** A record's value: its index in the first four bytes, then filler. */
function recordValue(index: number, size: number): Buffer {
  const b = Buffer.alloc(size, 'x');
  b.writeUInt32BE(index, 0);
  return b;
}

/**
 * Throws unless the consumed records are exactly the produced ones: offsets
 * 0 to n-1 in order, every index once, every value byte as sent. A broker
 * that loses, repeats or garbles records must not get a consume figure.
 */
function checkConsumed(
  where: string,
  batches: ReadonlyArray<ReadonlyArray<{ offset: string; value: Buffer | null }>>,
  sent: number,
  size: number,
): void {
  const seen = new Uint8Array(sent);
  const filler = Buffer.alloc(size, 'x');
  let expected = 0;
  for (const batch of batches)
    for (const m of batch) {
      const v = m.value;
      if (Number(m.offset) !== expected)
        throw new Error(`${where}: offset ${m.offset} where ${expected} was due`);
      expected++;
      if (v === null || v.length !== size)
        throw new Error(`${where}: offset ${m.offset} has ${v?.length} bytes, sent ${size}`);
      const index = v.readUInt32BE(0);
      if (index >= sent || seen[index] === 1)
        throw new Error(`${where}: record ${index} at offset ${m.offset} is unknown or repeated`);
      seen[index] = 1;
      if (v.compare(filler, 4, size, 4, size) !== 0)
        throw new Error(`${where}: record ${index} came back altered`);
    }
  if (expected !== sent) throw new Error(`${where}: consumed ${expected} records, produced ${sent}`);
}

function medianOf(runs: Figures[]): Figures {
  return {
    produceRecordsPerSec: median(runs.map((f) => f.produceRecordsPerSec)),
    produceMBPerSec: median(runs.map((f) => f.produceMBPerSec)),
    produceP99Ms: median(runs.map((f) => f.produceP99Ms)),
    consumeRecordsPerSec: median(runs.map((f) => f.consumeRecordsPerSec)),
    consumeMBPerSec: median(runs.map((f) => f.consumeMBPerSec)),
  };
}

function line(name: string, f: Figures): string {
  return `${name.padEnd(22)} produce ${f.produceRecordsPerSec.toFixed(0).padStart(9)} rec/s ${f.produceMBPerSec.toFixed(1).padStart(7)} MB/s p99 ${f.produceP99Ms.toFixed(1).padStart(7)} ms | consume ${f.consumeRecordsPerSec.toFixed(0).padStart(9)} rec/s ${f.consumeMBPerSec.toFixed(1).padStart(7)} MB/s`;
}

async function main(): Promise<void> {
  const real = process.env.KAFKA_BROKERS?.split(',').map((s) => s.trim());
  console.log(
    `kafkajs, acks=all, ${PER_SEND} records per send, ${IN_FLIGHT} sends in flight, ${TOTAL_BYTES >> 20} MiB per shape, median of ${ROUNDS} rounds`,
  );
  const embedded = await startEmbedded();
  const realPid = TRACE && real !== undefined ? listenerPid(real[0] as string) : null;
  try {
    for (const size of KAFKAJS ? SIZES : []) {
      const e: Figures[] = [];
      const k: Figures[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate who goes first, so neither side always runs on a machine the other just warmed.
        const order =
          real === undefined ? ['embedded'] : round % 2 === 0 ? ['embedded', 'kafka'] : ['kafka', 'embedded'];
        for (const side of order) {
          const f =
            side === 'embedded'
              ? await run(embedded.brokers, size, side, embedded.metricsPort, embedded.pid)
              : await run(real as string[], size, side, null, realPid);
          (side === 'embedded' ? e : k).push(f);
          console.log(line(`  round ${round + 1} ${side}`, f));
        }
      }
      const em = medianOf(e);
      console.log(line(`embedded ${size} B`, em));
      if (real === undefined) {
        console.log('  (no reference: KAFKA_BROKERS is not set, so no ratio)');
        continue;
      }
      const km = medianOf(k);
      console.log(line(`kafka ${size} B`, km));
      console.log(
        `  ratio embedded/kafka (medians): produce ${(em.produceRecordsPerSec / km.produceRecordsPerSec).toFixed(2)}, consume ${(em.consumeRecordsPerSec / km.consumeRecordsPerSec).toFixed(2)}, p99 latency ${(em.produceP99Ms / km.produceP99Ms).toFixed(2)} (lower is better)`,
      );
    }
    if (RAW) await rawSection(embedded.brokers, real);
  } finally {
    embedded.stop();
  }
}

/** The same shapes through a thin client (broker-raw.bench.ts), so that the brokers are the bound. */
async function rawSection(embedded: string[], real: string[] | undefined): Promise<void> {
  console.log(
    `raw client (pre-built batches, Produce v7 acks=all, ${IN_FLIGHT} in flight; Fetch v11 8 MiB), median of ${ROUNDS} rounds`,
  );
  const rawLine = (name: string, f: RawFigures) =>
    `${name.padEnd(34)} produce ${f.produceRecordsPerSec.toFixed(0).padStart(9)} rec/s | consume ${f.consumeRecordsPerSec.toFixed(0).padStart(9)} rec/s`;
  // The reference as configured, and with every append fsynced before the answer (as ours is).
  const sides: Array<{
    name: string;
    brokers: string[];
    configEntries: Array<{ name: string; value: string }>;
  }> = [{ name: 'embedded', brokers: embedded, configEntries: [] }];
  if (real !== undefined)
    sides.push(
      { name: 'kafka', brokers: real, configEntries: [] },
      {
        name: 'kafka flush.messages=1',
        brokers: real,
        configEntries: [{ name: 'flush.messages', value: '1' }],
      },
    );
  for (const size of SIZES) {
    const batches = Math.floor(TOTAL_BYTES / size / PER_SEND);
    const runs = new Map<string, RawFigures[]>(sides.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate who goes first, so no side always runs on a machine another just warmed.
      const order = sides.map((_, i) => sides[(i + round) % sides.length] as (typeof sides)[number]);
      for (const side of order) {
        const kafka = new Kafka({ brokers: side.brokers, logLevel: logLevel.NOTHING, clientId: 'bench' });
        const admin = kafka.admin();
        await admin.connect();
        const topic = `bench-raw-${size}-${randomUUID().slice(0, 8)}`;
        await admin.createTopics({
          topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: side.configEntries }],
        });
        try {
          settleDisk();
          // The brokers are warm from the kafkajs section that ran before.
          const f = await rawRun(side.brokers[0] as string, topic, size, batches);
          runs.get(side.name)?.push(f);
          console.log(rawLine(`  round ${round + 1} ${side.name}`, f));
        } finally {
          await admin.deleteTopics({ topics: [topic] }).catch(() => {});
          await admin.disconnect();
        }
      }
    }
    const med = (xs: RawFigures[]): RawFigures => ({
      produceRecordsPerSec: median(xs.map((f) => f.produceRecordsPerSec)),
      consumeRecordsPerSec: median(xs.map((f) => f.consumeRecordsPerSec)),
    });
    const e = med(runs.get('embedded') ?? []);
    console.log(rawLine(`raw embedded ${size} B`, e));
    for (const side of sides.slice(1)) {
      const k = med(runs.get(side.name) ?? []);
      console.log(rawLine(`raw ${side.name} ${size} B`, k));
      console.log(
        `  ratio embedded/${side.name} (medians): produce ${(e.produceRecordsPerSec / k.produceRecordsPerSec).toFixed(2)}, consume ${(e.consumeRecordsPerSec / k.consumeRecordsPerSec).toFixed(2)}`,
      );
    }
  }
}

await main();
