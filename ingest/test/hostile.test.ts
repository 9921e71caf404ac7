import { readFileSync, writeFileSync } from 'node:fs';
import {
  createSerdes,
  expandColumns,
  type RunningRegistry,
  type SampleBatch,
  type Serdes,
  startRegistry,
} from '@promstream/schemas';
import {
  announceSkip,
  freePort,
  type LogBackend,
  type Pick,
  realKafka,
  startEmbeddedBroker,
} from '@promstream/testkit';
import pino from 'pino';
import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../src/gateway/server.js';
import { createLogWriters, type LogWriters } from '../src/log/writers.js';
import type { WriteSeries } from '../src/remote-write/types.js';
import { encodeV1 } from '../src/remote-write/v1.js';
import { encodeV2 } from '../src/remote-write/v2.js';
import { bombOfSize } from './bombs.js';
import { readTopic } from './helpers.js';

// Issue 27 at the edge: hostile remote-write requests sent between other tenants' writes, on
// Apache Kafka (KAFKA_BROKERS) and on the embedded broker. Each hostile request gets its 4xx;
// every sample the other tenants had acknowledged is on the log; the peak memory of this process
// (which runs the gateway) stays under a bound; the other tenants never see a failure, so
// nothing needed a restart.

const backends: [string, Pick<LogBackend>][] = [
  ['Apache Kafka', realKafka()],
  ['the embedded broker', await startEmbeddedBroker()],
];
for (const [name, picked] of backends)
  if (!picked.ok) announceSkip(`hostile writes on ${name}`, picked.reason);

/** The peak resident size of this process since the last reset, in bytes (Linux). */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

function rss(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** Resets the peak to the current size (writing 5 to clear_refs, Linux 4.0 and later). */
function resetPeak(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

const MEMORY_BOUND = 400 * 1024 * 1024;

describe.each(backends.filter(([, p]) => p.ok))('hostile writes on %s', (_name, picked) => {
  const backend = (picked as { backend: LogBackend }).backend;
  const run = Date.now().toString(36);
  const topic = `ingest-hostile-${run}`;
  const logger = pino({ level: 'silent' });
  let registry: RunningRegistry;
  let writers: LogWriters;
  let gateway: Gateway;
  let serdes: Serdes;

  beforeAll(async () => {
    registry = await startRegistry({
      brokers: backend.brokers,
      port: await freePort(),
      topic: `_schemas-hostile-${run}`,
      logger,
    });
    serdes = createSerdes({ registryUrl: registry.url });
    writers = createLogWriters({
      brokers: backend.brokers,
      registryUrl: registry.url,
      samplesTopic: topic,
      eventsTopic: `${topic}-events`,
      samplePartitions: 3,
      logger,
    });
    gateway = await startGateway({ sink: writers.samples, producer: writers.producer, port: 0, logger });
  });
  afterAll(async () => {
    await gateway?.close();
    await registry?.close();
    await backend.stop();
  });

  const post = (body: Buffer, tenant: string, version: '1.0' | '2.0' = '1.0') =>
    fetch(`${gateway.url}/api/v1/write`, {
      method: 'POST',
      body,
      headers: {
        'content-type':
          version === '2.0'
            ? 'application/x-protobuf;proto=io.prometheus.write.v2.Request'
            : 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-scope-orgid': tenant,
      },
    });
  const series = (name: string, n: number, t: number, extra = ''): WriteSeries[] =>
    Array.from({ length: n }, (_, i) => ({
      labels: [
        { name: '__name__', value: name },
        { name: 'i', value: `${extra}${i}` },
      ],
      timestamps: [t],
      values: [i],
      histograms: [],
      exemplars: 0,
    }));

  it('answers each hostile request with its 4xx while every other tenant keeps being written', async () => {
    // Other tenants write all along; each acknowledged series is remembered.
    const acknowledged = new Set<string>();
    const failures: string[] = [];
    let running = true;
    let seq = 0;
    const victim = async (tenant: string) => {
      while (running) {
        const batch = series('victim_metric', 10, Date.now(), `${tenant}-${seq++}-`);
        const res = await post(snappy.compressSync(Buffer.from(encodeV1(batch))), tenant);
        if (res.status === 204) for (const s of batch) acknowledged.add(`${tenant}/${s.labels[1]!.value}`);
        else failures.push(`${tenant}: ${res.status} ${await res.text()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const victims = [victim('victim-a'), victim('victim-b')];
    await new Promise((r) => setTimeout(r, 300));

    // Built before the peak is reset: the test's own copies of the bodies are not the gateway's cost.
    const bomb47 = bombOfSize(47_000_000, Date.now()).body;
    const bomb4 = bombOfSize(4_700_000, Date.now()).body;
    const int64 = (t: bigint) => {
      const varint: number[] = [];
      for (let u = BigInt.asUintN(64, t); ; u >>= 7n) {
        if (u < 0x80n) {
          varint.push(Number(u));
          break;
        }
        varint.push(Number(u & 0x7fn) | 0x80);
      }
      const label = Buffer.from([0x0a, 8, ...Buffer.from('__name__'), 0x12, 4, ...Buffer.from('edge')]);
      const sample = Buffer.from([0x10, ...varint]);
      const ts = Buffer.concat([
        Buffer.from([0x0a, label.length]),
        label,
        Buffer.from([0x12, sample.length]),
        sample,
      ]);
      return snappy.compressSync(Buffer.concat([Buffer.from([0x0a, ts.length]), ts]));
    };
    const now = Date.now();
    const hostile: [string, () => Promise<Response>, number, RegExp][] = [
      [
        'far-future samples (the year 3000)',
        () =>
          post(
            snappy.compressSync(Buffer.from(encodeV1(series('future', 50, 32_503_680_000_000)))),
            'attacker',
          ),
        400,
        /^too_far_in_future: 50 samples refused/,
      ],
      [
        'far-future samples in remote write 2.0',
        () =>
          post(
            snappy.compressSync(Buffer.from(encodeV2(series('future2', 5, 32_503_680_000_000)))),
            'attacker',
            '2.0',
          ),
        400,
        /^too_far_in_future: 5 samples refused/,
      ],
      [
        'samples older than the out-of-order window beside good ones',
        () =>
          post(
            snappy.compressSync(
              Buffer.from(
                encodeV1([...series('old', 3, now - 3_600_000), ...series('attacker_good', 4, now)]),
              ),
            ),
            'attacker',
          ),
        400,
        /^out_of_bounds: 3 samples refused[\s\S]*4 samples and 0 histogram samples of the request are written/,
      ],
      [
        'the int64 maximum as a timestamp',
        () => post(int64(2n ** 63n - 1n), 'attacker'),
        400,
        /^too_far_in_future/,
      ],
      [
        'the int64 minimum as a timestamp',
        () => post(int64(-(2n ** 63n)), 'attacker'),
        400,
        /^out_of_bounds/,
      ],
      ['2^53 + 1 as a timestamp', () => post(int64(2n ** 53n + 1n), 'attacker'), 400, /^too_far_in_future/],
      [
        'a 47 MB snappy bomb (1 GB, 28.6 million series)',
        () => post(bomb47, 'attacker'),
        413,
        /^payload_too_large: the body declares 1002666665 bytes once decompressed, over the limit max_decompressed_bytes of 104857600/,
      ],
      [
        'a 4.7 MB snappy bomb (100 MB, 2.86 million series)',
        () => post(bomb4, 'attacker'),
        400,
        /^limit_exceeded: more than 200000 series in one request/,
      ],
    ];
    for (const [what, send, status, reason] of hostile) {
      await new Promise((r) => setTimeout(r, 100));
      const before = rss();
      resetPeak();
      const res = await send();
      const text = await res.text();
      const grew = peakRss() - before;
      expect({ what, status: res.status, text }).toMatchObject({ what, status });
      expect(text, what).toMatch(reason);
      expect(grew, `${what}: peak memory grew by ${(grew / 1e6).toFixed(0)} MB`).toBeLessThan(MEMORY_BOUND);
    }
    // The victims went on writing through all of it and go on after it.
    const countAfter = acknowledged.size;
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(victims);
    expect(acknowledged.size).toBeGreaterThan(countAfter);
    expect(failures).toEqual([]);

    // Every acknowledged victim series is on the log; of the attacker only what was acknowledged.
    // Acknowledged means on the log already: one read of a few seconds sees it all.
    const records = await readTopic(backend.brokers, topic, () => false, 8000);
    const onLog = new Set<string>();
    for (const r of records) {
      const batch = expandColumns(await serdes.sampleBatch.deserialize(topic, r.value)) as SampleBatch;
      for (const s of batch.series)
        onLog.add(`${batch.tenant}/${s.labels.find((l) => l.name === 'i')?.value}`);
    }
    expect(records.length).toBeGreaterThan(0);
    const missing = [...acknowledged].filter((k) => !onLog.has(k));
    expect(missing).toEqual([]);
    const attacker = [...onLog].filter((k) => k.startsWith('attacker/')).sort();
    expect(attacker).toEqual(['attacker/0', 'attacker/1', 'attacker/2', 'attacker/3']);
  }, 180_000);
});
