import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createSerdes, type Event, type RunningRegistry, startRegistry, TOPICS } from '@promstream/schemas';
import { announceSkip, freePort, type LogBackend, repoRoot, startEmbeddedBroker } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The README's "Reading events" consumer, run as written: its code block is
 * taken from README.md, pointed at the embedded broker and registry instead
 * of localhost:9092 and :8081, and run with node. It must print every event
 * that the schemas package's serde published, decoded by
 * @confluentinc/schemaregistry's Avro deserializer, so the sample cannot rot.
 */
const broker = await startEmbeddedBroker();
if (!broker.ok) announceSkip('README events consumer', broker.reason);

/** The first `js` code block under `## Reading events` in the README. */
async function readmeSample(): Promise<string> {
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Reading events'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  if (!readme.includes('## Reading events') || m === null)
    throw new Error('README has no Reading events sample');
  return m[1] as string;
}

/** Runs `file` with node until `want` decoded events were printed (or 60 s pass); returns them. */
function runUntil(file: string, want: number): Promise<{ events: Event[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: path.dirname(file) });
    const events: Event[] = [];
    let out = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.stdout.on('data', (d) => {
      out += String(d);
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        // kafkajs logs JSON lines to stdout too; events are the lines with an event's fields.
        let v: Partial<Event>;
        try {
          v = JSON.parse(line) as Partial<Event>;
        } catch {
          continue;
        }
        if (v.kind !== undefined && v.host !== undefined) events.push(v as Event);
      }
      if (events.length >= want) child.kill('SIGKILL');
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ events, stderr });
    });
  });
}

describe.skipIf(!broker.ok)('README events consumer (embedded broker and registry)', () => {
  const backend = (broker as { backend: LogBackend }).backend;
  const file = path.join(repoRoot, 'tests', `.readme-events-${randomUUID()}.mjs`);
  const published: Event[] = Array.from({ length: 40 }, (_, i) => ({
    time: Date.UTC(2026, 11, 4, 10, 0, i),
    host: `host-${i % 3}`,
    source: i % 2 === 0 ? 'kernel' : 'hardware',
    kind: i % 4 === 0 ? 'oom_kill' : 'link_down',
    severity: 'error',
    message: `event ${i}`,
    attributes: (i % 2 === 0 ? { pid: String(100 + i) } : {}) as Record<string, string>,
  }));
  let registry: RunningRegistry;

  beforeAll(async () => {
    registry = await startRegistry({
      brokers: backend.brokers,
      port: await freePort(),
      topic: `_schemas-${randomUUID()}`,
    });
    const kafka = new Kafka({
      brokers: backend.brokers,
      logLevel: logLevel.NOTHING,
      clientId: 'readme-events',
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPICS.events, numPartitions: 2 }] });
    await admin.disconnect();
    const serdes = createSerdes({ registryUrl: registry.url });
    const producer = kafka.producer();
    await producer.connect();
    const messages = await Promise.all(
      published.map(async (e) => ({ key: e.host, value: await serdes.serialize(TOPICS.events, e) })),
    );
    await producer.send({ topic: TOPICS.events, acks: -1, messages });
    await producer.disconnect();
  });
  afterAll(async () => {
    await rm(file, { force: true });
    await registry?.close();
    await backend?.stop();
  });

  it('decodes every published event with the Confluent Avro deserializer, as the README shows', async () => {
    const sample = await readmeSample();
    expect(sample).toContain("'localhost:9092'");
    expect(sample).toContain("'http://localhost:8081'");
    const pointed = sample
      .replace("'localhost:9092'", backend.brokers.map((b) => `'${b}'`).join(', '))
      .replace("'http://localhost:8081'", `'${registry.url}'`);
    await writeFile(file, pointed);
    const { events, stderr } = await runUntil(file, published.length);
    expect(events.length, stderr.slice(-2000)).toBe(published.length);
    const key = (e: Event) => `${e.message}|${e.host}|${e.kind}|${e.source}`;
    expect(events.map(key).sort()).toEqual(published.map(key).sort());
    const byMessage = new Map(events.map((e) => [e.message, e]));
    for (const e of published) expect(byMessage.get(e.message)).toEqual(e);
  }, 120_000);
});
