import { decodeXorChunk, encodeXorChunk, MemoryObjectStore } from '@promstream/storage';
import { blockUlid } from './block-builder/block-id.js';
import { PartitionHead } from './block-builder/partition-head.js';
import { ObjectStoreBlockSink } from './wiring/block-sink.js';

// Block-builder throughput on one core, without the network: XOR chunks as
// they arrive in SampleBatch records are decoded, appended to a partition
// head, cut into 2-hour blocks and encoded as TSDB blocks into a memory
// store. This is the per-sample work of the builder and of replay; the
// Kafka fetch comes on top. Data shape "node": 10k series, a sample every
// 15 s, records of 4 samples (one minute) per series.

const SERIES = 10_000;
const HOURS = 4;
const STEP = 15_000;
const PER_RECORD = 4;

const chunks: { labels: { name: string; value: string }[]; bytes: Uint8Array; t0: number }[][] = [];
for (let start = 0; start < HOURS * 3_600_000; start += STEP * PER_RECORD) {
  const round = [];
  for (let s = 0; s < SERIES; s++) {
    const t = Array.from({ length: PER_RECORD }, (_, k) => start + k * STEP);
    const v = t.map((x) => Math.sin(x / 1e6 + s) * 100 + s);
    round.push({
      labels: [
        { name: '__name__', value: 'node_metric' },
        { name: 'series', value: String(s) },
      ],
      bytes: encodeXorChunk(t, v),
      t0: start,
    });
  }
  chunks.push(round);
}
const total = chunks.length * SERIES * PER_RECORD;

const store = new MemoryObjectStore();
const sink = new ObjectStoreBlockSink(store);
const head = new PartitionHead({
  rules: { blockDuration: 7_200_000, outOfOrderWindow: 600_000, futureGrace: 600_000, backfillIdle: 600_000 },
});
const started = process.hrtime.bigint();
let offset = 0;
let blocks = 0;
for (const round of chunks) {
  for (const c of round) {
    const { ts, vs } = decodeXorChunk(c.bytes);
    // Each record stamped as the gateway would at ingest: the time of its last sample.
    head.beginRecord(offset, ts[ts.length - 1]!, false);
    head.append('bench', c.labels, ts, vs);
    head.endRecord(offset++);
  }
  for (const block of head.cut()) {
    const ulid = blockUlid({
      topic: 'bench',
      partition: 0,
      tenant: block.tenant,
      firstOffset: block.firstOffset,
      lastOffset: block.lastOffset,
      minTime: block.rangeStart,
    });
    await sink.write(ulid, block, {
      topic: 'bench',
      partition: 0,
      firstOffset: block.firstOffset,
      lastOffset: block.lastOffset,
    });
    blocks++;
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cut = total - head.samples();
console.log(
  `block builder (decode + head + cut + encode), shape node: ${SERIES} series x ${HOURS} h @ 15 s = ${total} samples, ` +
    `${blocks} blocks (${cut} samples) in ${seconds.toFixed(2)} s: ${Math.round(total / seconds)} samples/s on one core`,
);
