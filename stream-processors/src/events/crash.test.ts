import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSerdes, type RunningRegistry, startRegistry } from '@promstream/schemas';
import { decodeSegment, PrefixedObjectStore, S3ObjectStore } from '@promstream/storage';
import { announceSkip, freePort, realKafka, realS3 } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, test } from 'vitest';
import { testEvent } from '../../test/events.js';
import { EVENT_FAULT_POINTS } from './seams.js';

// kill -9 of the event store while events are published, on Apache Kafka and
// the S3 server: one kill at each fault point, then one at a random moment,
// then a store that runs to the end. Every event the log acknowledged must be
// in the bucket exactly once.

const kafka = realKafka();
const s3 = realS3();
if (!kafka.ok) announceSkip('event store kill -9', kafka.reason);
if (!s3.ok) announceSkip('event store kill -9', s3.reason);

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.resolve(here, '../../test/event-store-child.ts');
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');

describe.skipIf(!kafka.ok || !s3.ok)('event store kill -9 on Apache Kafka and the S3 server', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const topic = `evcrash-${randomUUID()}`;
  const schemasTopic = `_schemas-evcrash-${randomUUID()}`;
  const group = `evcrash-${randomUUID()}`;
  const prefix = `evcrash-${randomUUID()}`;
  const client = new Kafka({ clientId: 'evcrash', brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  const producer = client.producer({ idempotent: true });
  const procs: ChildProcess[] = [];
  let registry: RunningRegistry | undefined;
  const b = s3.ok ? s3.backend : undefined;
  const store = new PrefixedObjectStore(
    new S3ObjectStore({
      bucket: b?.bucket ?? '',
      endpoint: b?.endpoint,
      region: b?.region,
      accessKeyId: b?.accessKeyId,
      secretAccessKey: b?.secretAccessKey,
      forcePathStyle: true,
    }),
    prefix,
  );

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await producer.disconnect();
    await registry?.close();
    await admin.deleteTopics({ topics: [topic, schemasTopic] }).catch(() => {});
    await admin.deleteGroups([group]).catch(() => {});
    await admin.disconnect();
    for await (const o of store.list('', { recursive: true })) await store.delete(o.key);
  });

  /** Starts a store process; resolves when it exits (a kill) or, without a fault, when asked. */
  function run(fault?: string): { exited: Promise<string>; proc: ChildProcess } {
    const config = {
      brokers,
      topic,
      group,
      registryUrl: registry?.url,
      s3: b,
      prefix,
      ...(fault === undefined ? {} : { fault }),
    };
    const proc = spawn(tsx, ['--conditions=@promstream/source', child, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(proc);
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<string>((resolve) =>
      proc.on('exit', (code, signal) => resolve(`${code ?? signal}: ${stderr}`)),
    );
    return { exited, proc };
  }

  async function committedAll(): Promise<boolean> {
    const high = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return high.every((h) => {
      const c = committed?.partitions.find((p) => p.partition === h.partition);
      return c !== undefined && Number(c.offset) >= Number(h.high);
    });
  }

  test('every acknowledged event is in the bucket once after kills at each fault point and at random', async () => {
    registry = await startRegistry({ brokers, port: await freePort(), topic: schemasTopic });
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await producer.connect();
    const serdes = createSerdes({ registryUrl: registry.url });
    const T0 = Date.UTC(2026, 10, 3, 23, 0);
    let acknowledged = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const batch = [];
        for (let k = 0; k < 40; k++) {
          const e = testEvent(acknowledged + k, T0);
          batch.push({ key: e.host, value: await serdes.event.serialize(topic, e) });
        }
        await producer.send({ topic, acks: -1, messages: batch });
        acknowledged += batch.length;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    for (const point of EVENT_FAULT_POINTS) {
      const { exited } = run(point);
      const outcome = await exited;
      expect(outcome).toContain(`fault point reached: {"point":"${point}"`);
    }
    const random = run();
    await new Promise((r) => setTimeout(r, 1500 + Math.floor(Math.random() * 1500)));
    random.proc.kill('SIGKILL');
    await random.exited;
    publishing = false;
    await publisher;

    const last = run();
    const deadline = Date.now() + 90_000;
    while (!(await committedAll())) {
      if (Date.now() > deadline) throw new Error('the last store did not commit the whole topic in 90 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    last.proc.kill('SIGTERM');
    await last.exited;

    const seen = new Map<number, number>();
    for await (const o of store.list('events/', { recursive: true })) {
      for (const e of await decodeSegment(await store.get(o.key))) {
        const seq = Number(e.attributes.seq);
        seen.set(seq, (seen.get(seq) ?? 0) + 1);
      }
    }
    const missing = [];
    for (let i = 0; i < acknowledged; i++) if (seen.get(i) !== 1) missing.push([i, seen.get(i) ?? 0]);
    expect(acknowledged).toBeGreaterThan(200);
    expect(missing).toEqual([]);
    expect(seen.size).toBe(acknowledged);
  }, 240_000);
});
