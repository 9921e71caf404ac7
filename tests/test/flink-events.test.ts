import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  createSerdes,
  type Event,
  type EventSource,
  type RunningRegistry,
  startRegistry,
  TOPICS,
} from '@promstream/schemas';
import {
  announceSkip,
  flinkJob,
  freePort,
  type LogBackend,
  repoRoot,
  seededRandom,
  startEmbeddedBroker,
} from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The Flink recipe of docs/flink.md, run for real: events published with the
 * schemas package's serde (Confluent-framed Avro, schema in the embedded
 * registry) to promstream.events.v1 on the embedded broker; Flink 2.2's SQL
 * (the kafka connector, the avro-confluent format, a tumbling window) counts
 * them by kind on a local MiniCluster, and must get exactly what was published.
 */
const job = flinkJob();
if (!job.ok) announceSkip('Flink SQL over the events topic', job.reason);
const broker = job.ok ? await startEmbeddedBroker() : null;
if (broker !== null && !broker.ok) announceSkip('Flink SQL over the events topic', broker.reason);
const ready = job.ok && broker?.ok === true;

const WINDOW_MS = 60_000;
const EVENT_SCHEMA = path.join(repoRoot, 'schemas', 'avro', 'event.avsc');
const KINDS = ['oom_kill', 'segfault', 'link_down', 'reboot', 'disk_error'];
const SOURCES: EventSource[] = ['kernel', 'os', 'hardware', 'app'];

/** Events over five one-minute windows ending ten minutes ago, from a fixed seed. */
function events(count: number): Event[] {
  const random = seededRandom(16);
  const start = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 15 * WINDOW_MS;
  return Array.from({ length: count }, (_, i) => ({
    time: start + Math.floor(random() * 5 * WINDOW_MS),
    host: `host-${i % 7}`,
    source: SOURCES[i % SOURCES.length] as EventSource,
    kind: KINDS[Math.floor(random() * KINDS.length)] as string,
    severity: i % 3 === 0 ? 'error' : 'warning',
    message: `event ${i} ${'x'.repeat(i % 50)}`,
    attributes: (i % 2 === 0 ? { pid: String(1000 + i), comm: 'postgres' } : {}) as Record<string, string>,
  }));
}

/** What the job must print: window start, kind and count per line, sorted. */
function expectedCounts(published: Event[]): string[] {
  const counts = new Map<string, number>();
  for (const e of published) {
    const key = `${Math.floor(e.time / WINDOW_MS) * WINDOW_MS}\t${e.kind}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key}\t${n}`).sort();
}

function runJob(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!job.ok) throw new Error('unreachable: the suite is skipped without the job');
  const { java, classpath, jvmOptions } = job.backend;
  return new Promise((resolve) => {
    execFile(
      java,
      [...jvmOptions, '-Xmx768m', '-cp', classpath, 'io.promstream.flink.EventCounts', ...args],
      { timeout: 240_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

describe.skipIf(!ready)('Flink SQL over the events topic (embedded broker and registry)', () => {
  const backend = (broker as { backend: LogBackend } | null)?.backend as LogBackend;
  let registry: RunningRegistry;
  const published = events(600);

  beforeAll(async () => {
    registry = await startRegistry({
      brokers: backend.brokers,
      port: await freePort(),
      topic: `_schemas-${randomUUID()}`,
    });
    const kafka = new Kafka({
      brokers: backend.brokers,
      logLevel: logLevel.NOTHING,
      clientId: 'flink-events',
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPICS.events, numPartitions: 3 }] });
    await admin.disconnect();
    const serdes = createSerdes({ registryUrl: registry.url });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < published.length; i += 100) {
      const batch = published.slice(i, i + 100);
      const messages = await Promise.all(
        batch.map(async (e) => ({
          key: e.host,
          value: await serdes.serialize(TOPICS.events, e),
          timestamp: String(e.time),
        })),
      );
      await producer.send({ topic: TOPICS.events, acks: -1, messages });
    }
    await producer.disconnect();
  });
  afterAll(async () => {
    await registry?.close();
    await backend?.stop();
  });

  it('counts events by kind over tumbling windows, exactly as published', async () => {
    const res = await runJob([
      backend.brokers.join(','),
      registry.url,
      TOPICS.events,
      String(WINDOW_MS / 1000),
      EVENT_SCHEMA,
    ]);
    expect(res.code, res.stderr.slice(-4000)).toBe(0);
    const got = res.stdout.split('\n').filter((l) => l !== '');
    const want = expectedCounts(published);
    expect(want.length).toBeGreaterThan(KINDS.length); // several windows, several kinds each
    expect(got).toEqual(want);
  }, 300_000);
});
