/**
 * Serde figures for the gateway's shape: a SampleBatch of many series with
 * one float sample each (one remote-write request of a Prometheus shard).
 *
 *   npm run bench -w @promstream/schemas    (needs KAFKA_BROKERS for the registry)
 *
 * Prints series per second through RecordSerde (the Confluent AvroSerializer
 * path) and through a bare avsc encode with the same 5-byte header, which is
 * the floor any Avro serde can reach; the ratio says what the library's
 * checks cost. Also the series key rate and the bytes per series.
 */
import { randomUUID } from 'node:crypto';
import { realKafka } from '@promstream/testkit';
import { avroType } from '../src/avro-schemas.js';
import { startRegistry } from '../src/registry/server.js';
import { createSerdes } from '../src/serde.js';
import { seriesKey } from '../src/series-key.js';
import { TOPICS } from '../src/topics.js';
import type { SampleBatch, SeriesChunk } from '../src/types.js';

const SERIES_PER_BATCH = 2000;
const BATCHES = 50;

/** A node-exporter-like series with one sample in a small XOR-chunk-sized buffer. */
function series(i: number): SeriesChunk {
  return {
    labels: [
      { name: '__name__', value: 'node_network_receive_bytes_total' },
      { name: 'device', value: `eth${i % 4}` },
      { name: 'instance', value: `host-${Math.floor(i / 100)}.example.org:9100` },
      { name: 'job', value: 'node' },
      { name: 'series', value: String(i) },
    ],
    minTime: 1_764_000_000_000 + i,
    maxTime: 1_764_000_000_000 + i,
    encoding: 'XOR',
    chunk: Buffer.alloc(19, i & 0xff),
    histograms: [],
  };
}

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
}

async function main(): Promise<void> {
  const kafka = realKafka();
  if (!kafka.ok) {
    console.log(`serde bench: skipped, ${kafka.reason}`);
    return;
  }
  const topic = `_schemas-bench-${randomUUID()}`;
  const registry = await startRegistry({ brokers: kafka.backend.brokers, port: 0, topic });
  try {
    const serdes = createSerdes({ registryUrl: registry.url });
    const batches: SampleBatch[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const list: SeriesChunk[] = [];
      for (let i = 0; i < SERIES_PER_BATCH; i++) list.push(series(b * SERIES_PER_BATCH + i));
      batches.push({ tenant: 'default', producedAt: Date.now(), series: list });
    }
    const first = await serdes.serialize(TOPICS.samples, batches[0]!);
    const header = first.subarray(0, 5);
    const type = avroType('sampleBatch');
    const total = BATCHES * SERIES_PER_BATCH;

    // Best of three rounds each, after a warm-up round, so the JIT and the caches are settled.
    const best = async (work: () => Promise<void> | void): Promise<number> => {
      let min = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 4; round++) {
        const t0 = performance.now();
        await work();
        if (round > 0) min = Math.min(min, performance.now() - t0);
      }
      return min;
    };
    let bytes = 0;
    const serdeMs = await best(async () => {
      bytes = 0;
      for (const batch of batches) bytes += (await serdes.serialize(TOPICS.samples, batch)).length;
    });
    const bareMs = await best(() => {
      for (const batch of batches) Buffer.concat([header, type.toBuffer(batch)]);
    });
    const encoded = batches.map((batch) => Buffer.concat([header, type.toBuffer(batch)]));
    const readMs = await best(async () => {
      for (const value of encoded) await serdes.deserialize(TOPICS.samples, value);
    });
    const keyMs = await best(() => {
      for (const batch of batches) for (const s of batch.series) seriesKey(s.labels);
    });

    console.log(`serde bench: ${BATCHES} SampleBatch of ${SERIES_PER_BATCH} one-sample series`);
    console.log(`  serialize (AvroSerializer path)  ${rate(total, serdeMs)} series`);
    console.log(`  bare avsc encode (reference)     ${rate(total, bareMs)} series`);
    console.log(`  ratio serde / reference          ${(bareMs / serdeMs).toFixed(2)}`);
    console.log(`  deserialize                      ${rate(total, readMs)} series`);
    console.log(`  series key (FNV-1a 64)           ${rate(total, keyMs)} keys`);
    console.log(`  value bytes per series           ${(bytes / total).toFixed(1)} (before the log's zstd)`);
  } finally {
    await registry.close();
    // kafkajs straight, outside the log seam: the bench only deletes its topic afterwards.
    const { default: kafkajs } = await import('kafkajs');
    const admin = new kafkajs.Kafka({
      brokers: kafka.backend.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

await main();
