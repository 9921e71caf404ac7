import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogWriters, type LogWriters } from '@promstream/ingest';
import { registerZstdCodec } from '@promstream/log';
import { createSerdes, type RunningRegistry, type SampleBatch, startRegistry } from '@promstream/schemas';
import { decodeXorChunk, formatLabels } from '@promstream/storage';
import { importOpenMetricsToLog } from '@promstream/stream-processors/migrate';
import { announceSkip, freePort, realKafka } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const kafka = realKafka();
if (!kafka.ok) announceSkip('migrate OpenMetrics onto the log', kafka.reason);

const T0 = 1_700_000_000_000;

describe.skipIf(!kafka.ok)('import OpenMetrics onto the log (real Kafka, embedded registry)', () => {
  const brokers = kafka.ok ? kafka.backend.brokers : [];
  const samplesTopic = `migrate-samples-${randomUUID()}`;
  let registry: RunningRegistry;
  let writers: LogWriters;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promstream-migrate-log-'));
    registry = await startRegistry({ brokers, port: await freePort(), topic: `_schemas-${randomUUID()}` });
    writers = createLogWriters({
      brokers,
      registryUrl: registry.url,
      samplesTopic,
      eventsTopic: `migrate-events-${randomUUID()}`,
      samplePartitions: 3,
    });
  });

  afterAll(async () => {
    await writers?.producer.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('puts every sample on the samples topic as SampleBatch records of the tenant', async () => {
    const lines = ['# TYPE mig gauge'];
    const want = new Map<string, [number, number][]>();
    for (let s = 0; s < 20; s++) {
      for (let i = 0; i < 50; i++) {
        const t = T0 + i * 15_000;
        lines.push(`mig{s="${s}"} ${s * 100 + i} ${t / 1000}`);
        const key = `{__name__="mig", s="${s}"}`;
        want.set(key, [...(want.get(key) ?? []), [t, s * 100 + i]]);
      }
    }
    lines.push('# EOF');
    const file = join(dir, 'in.om');
    await writeFile(file, `${lines.join('\n')}\n`);
    const r = await importOpenMetricsToLog(file, writers.samples, { tenant: 'mig', batchSamples: 300 });
    expect(r.samples).toBe(1000);
    expect(r.records).toBeGreaterThanOrEqual(4);

    registerZstdCodec();
    const serdes = createSerdes({ registryUrl: registry.url });
    const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
      groupId: `mig-${randomUUID()}`,
    });
    const got = new Map<string, [number, number][]>();
    let count = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: samplesTopic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${count} of 1000 samples`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const batch: SampleBatch = await serdes.sampleBatch.deserialize(samplesTopic, message.value!);
          expect(batch.tenant).toBe('mig');
          for (const s of batch.series) {
            const { ts, vs } = decodeXorChunk(s.chunk);
            const list = got.get(formatLabels(s.labels)) ?? [];
            for (let i = 0; i < ts.length; i++) list.push([ts[i]!, vs[i]!]);
            got.set(formatLabels(s.labels), list);
            count += ts.length;
          }
          if (count >= 1000) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    for (const list of got.values()) list.sort((a, b) => a[0] - b[0]);
    expect(got).toEqual(want);
  });
});
