import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createSerdes,
  partitionFor,
  type RunningRegistry,
  seriesKey,
  startRegistry,
} from '@promstream/schemas';
import { BlockReader, encodeXorChunk, listAll, objectStoreFromUrl, ValueType } from '@promstream/storage';
import { ObjectPartitionStateStore } from '@promstream/stream-processors';
import { announceSkip, freePort, realKafka, repoRoot, startEmbeddedBroker } from '@promstream/testkit';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, describe, expect, test } from 'vitest';

// The block builder runs as `promstream block-builder` in a child process and
// is killed with SIGKILL at random points while acknowledged records keep
// arriving. After the load, every acknowledged sample must be in the blocks
// exactly once: no loss, no second block over the same samples.

const cli = path.join(repoRoot, 'bin', 'promstream.js');
const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
const real = realKafka();
if (!built) announceSkip('block builder crash test', 'infra is not built (npm test builds it first)');
else if (!real.ok) announceSkip('block builder crash test on Apache Kafka', real.reason);

const PARTITIONS = 3;
const SERIES = 9;
/** An hour ago: records are stamped with their samples' times, as the gateway stamps them at ingest. */
const T0 = Math.floor((Date.now() - 3_600_000) / 5000) * 5000;

interface Backend {
  name: string;
  enabled: boolean;
  start(): Promise<{ brokers: string[]; stop(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'Apache Kafka',
    enabled: built && real.ok,
    start: async () => ({ brokers: real.ok ? real.backend.brokers : [], stop: async () => {} }),
  },
  {
    name: 'the embedded broker',
    enabled: built,
    start: async () => {
      const b = await startEmbeddedBroker();
      if (!b.ok) throw new Error(b.reason);
      return b.backend;
    },
  },
];

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`SIGKILL the block builder during a load on ${backend.name}`, () => {
    let brokers: string[] = [];
    let stopLog: () => Promise<void> = async () => {};
    let client: Kafka | undefined;
    let admin: Admin | undefined;
    let producer: Producer | undefined;
    const topic = `crash-bb-${randomUUID()}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'promstream-crash-'));
    let registry: RunningRegistry | undefined;
    let child: ChildProcess | undefined;

    afterAll(async () => {
      child?.kill('SIGKILL');
      await producer?.disconnect();
      await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin?.disconnect();
      await registry?.close();
      await stopLog();
      rmSync(dir, { recursive: true, force: true });
    });

    function startBuilder(): ChildProcess {
      return spawn(
        process.execPath,
        [
          cli,
          'block-builder',
          '--brokers',
          brokers.join(','),
          '--registry',
          registry!.url,
          '--store',
          `file://${dir}`,
          '--topic',
          topic,
          '--group-id',
          `crash-${topic}`,
          '--block-duration',
          '5s',
          '--out-of-order-window',
          '1s',
          '--log-level',
          'warn',
        ],
        { stdio: 'ignore' },
      );
    }

    test('every acknowledged sample is in the blocks exactly once', async () => {
      const log = await backend.start();
      brokers = log.brokers;
      stopLog = log.stop;
      client = new Kafka({ clientId: 'crash-bb', brokers, logLevel: logLevel.NOTHING });
      const logAdmin = client.admin();
      const logProducer = client.producer({ idempotent: true });
      admin = logAdmin;
      producer = logProducer;
      registry = await startRegistry({ brokers, port: await freePort(), topic: `_schemas-${randomUUID()}` });
      await logAdmin.connect();
      await logAdmin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
      await logProducer.connect();
      const serdes = createSerdes({ registryUrl: registry.url });
      const acked = new Map<string, number[]>();
      let t = T0;
      const sendRound = async () => {
        const messages = [];
        for (let i = 0; i < SERIES; i++) {
          const labels = [
            { name: '__name__', value: 'crash_metric' },
            { name: 'series', value: String(i) },
          ];
          const ts = [t, t + 100, t + 200];
          const value = await serdes.sampleBatch.serialize(topic, {
            tenant: 'crash',
            producedAt: Date.now(),
            series: [
              {
                labels,
                minTime: ts[0]!,
                maxTime: ts[2]!,
                encoding: 'XOR',
                chunk: Buffer.from(encodeXorChunk(ts, [1, 2, 3])),
                histograms: [],
              },
            ],
          });
          messages.push({
            key: seriesKey(labels),
            value,
            partition: partitionFor(labels, PARTITIONS),
            timestamp: String(ts[2]),
          });
        }
        await logProducer.send({ topic, acks: -1, messages });
        for (let i = 0; i < SERIES; i++)
          acked.set(String(i), [...(acked.get(String(i)) ?? []), t, t + 100, t + 200]);
        t += 300;
      };

      // Load for about 12 s (40 simulated seconds of samples); the builder is killed four times meanwhile.
      child = startBuilder();
      let kills = 0;
      const killer = (async () => {
        for (let k = 0; k < 4; k++) {
          await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500));
          child?.kill('SIGKILL');
          kills++;
          child = startBuilder();
        }
      })();
      for (let round = 0; round < 130; round++) {
        await sendRound();
        await new Promise((r) => setTimeout(r, 80));
      }
      await killer;
      expect(kills).toBe(4);
      // Push every partition's newest time past the last range so it is cut.
      t += 10_000;
      await sendRound();
      const lastRange = Math.floor((t - 10_000) / 5000) * 5000;

      const store = objectStoreFromUrl(`file://${dir}`);
      const states = new ObjectPartitionStateStore(store);
      // A killed member holds its partitions until its session (15 s) expires.
      const deadline = Date.now() + 90_000;
      for (let p = 0; p < PARTITIONS; p++) {
        while (((await states.load(topic, p).catch(() => undefined))?.boundary ?? 0) < lastRange) {
          if (Date.now() > deadline) throw new Error(`partition ${p} was not built up to ${lastRange}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      child.kill('SIGKILL');

      const seen = new Map<string, number[]>();
      const metas = (await listAll(store, 'crash/', { recursive: true })).filter((o) =>
        o.key.endsWith('/meta.json'),
      );
      for (const meta of metas) {
        const reader = await BlockReader.open(store, meta.key.slice(0, -'/meta.json'.length));
        const all = [{ type: '=~' as const, name: '__name__', value: '.+', matches: () => true }];
        for (const s of await reader.select(all, -Infinity, Infinity)) {
          const name = s.labels.find((l) => l.name === 'series')?.value ?? '';
          const it = s.iterator();
          const list = seen.get(name) ?? [];
          while (it.next() === ValueType.Float) if (it.atT() < lastRange) list.push(it.atT());
          seen.set(name, list);
        }
      }
      for (const [name, times] of acked) {
        const want = times.filter((x) => x < lastRange);
        const got = (seen.get(name) ?? []).sort((a, b) => a - b);
        // Equal lists mean nothing lost and nothing twice (a duplicate would repeat a time).
        expect(got, `series ${name}`).toEqual(want);
      }
    }, 200_000);
  });
}
