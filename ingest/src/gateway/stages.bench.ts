/**
 * Where the gateway's CPU goes per sample: each stage of the write path on
 * the same node-like shape as gateway.bench.ts (2000 series per request, one
 * sample each), without the network or the log.
 *
 *   npm run bench:stages -w @promstream/ingest
 */
import { partitionFor, SampleBatchBuilder, seriesKey } from '@promstream/schemas';
import { encodeXorChunk } from '@promstream/storage';
import snappy from 'snappy';
import { memorySerdes } from '../../test/helpers.js';
import { requestPlacer } from '../log/partitioner.js';
import { decodeBody } from '../remote-write/content-type.js';
import { checkShape } from '../remote-write/shape.js';
import type { WriteSeries } from '../remote-write/types.js';
import { decodeV1Reference, encodeV1 } from '../remote-write/v1.js';
import { defaultLimits, validateRequest } from '../remote-write/validate.js';
import { applyWindow, defaultWindow } from '../remote-write/window.js';

const SERIES = 2000;
const REPEAT = 50;

function request(round: number): WriteSeries[] {
  return Array.from({ length: SERIES }, (_, i) => ({
    labels: [
      { name: '__name__', value: `node_bench_metric_${i % 100}` },
      { name: 'instance', value: `host-${Math.floor(i / 100)}.example.net:9100` },
      { name: 'job', value: 'node' },
      { name: 'region', value: `eu-west-${i % 3}` },
    ],
    timestamps: [1_767_225_600_000 + round * 15_000],
    values: [i * 10 + round],
    histograms: [],
    exemplars: 0,
  }));
}

async function time(name: string, fn: () => unknown | Promise<unknown>): Promise<void> {
  await fn();
  // Best of five rounds: the machine is shared, so the minimum is the steadiest figure.
  let perSample = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let i = 0; i < REPEAT; i++) await fn();
    perSample = Math.min(perSample, ((performance.now() - started) * 1000) / (REPEAT * SERIES));
  }
  console.log(
    `${name.padEnd(40)} ${perSample.toFixed(2)} µs/sample  (${Math.round(1e6 / perSample)} samples/s)`,
  );
}

async function main(): Promise<void> {
  const series = request(1);
  const body = snappy.compressSync(Buffer.from(encodeV1(series)));
  const decoded = decodeBody(body, '1.0', 'snappy');
  const serde = memorySerdes().sampleBatch;
  console.log(`${SERIES} series per request, one sample each`);
  await time('snappy + protobuf decode (hand-written)', () => decodeBody(body, '1.0', 'snappy'));
  await time('snappy + protobuf decode (protobufjs)', () =>
    decodeV1Reference(snappy.uncompressSync(body) as Buffer),
  );
  const raw = snappy.uncompressSync(body) as Buffer;
  await time('shape check (limits before decoding)', () => checkShape(raw, '1.0', defaultLimits));
  await time('validate', () => validateRequest(decoded));
  await time('sample window (all inside)', () => applyWindow(decoded, 1_767_225_615_000, defaultWindow));
  await time('partitionFor (FNV-1a 64)', () => {
    for (const s of series) partitionFor(s.labels, 8);
  });
  await time('partitionFor, decoded series', () => {
    for (const s of decoded.series) partitionFor(s.labels, 8);
  });
  await time('requestPlacer, decoded series', () => {
    const place = requestPlacer(8, partitionFor);
    for (const s of decoded.series) place(s.labels);
  });
  await time('seriesKey (FNV-1a 64)', () => {
    for (const s of series) seriesKey(s.labels);
  });
  await time('SampleBatch v2: columns + encode', async () => {
    const records = Array.from({ length: 8 }, () => new SampleBatchBuilder('bench', 0));
    for (const s of decoded.series) {
      records[partitionFor(s.labels, 8)]!.addSample(s.labels, s.timestamps[0]!, s.values[0]!);
    }
    for (const r of records) await serde.serializeBuilder('bench', r);
  });
  await time('SampleBatch v1: XOR chunks + RecordSerde', async () => {
    const chunked = decoded.series.map((s) => ({
      labels: s.labels,
      minTime: s.timestamps[0]!,
      maxTime: s.timestamps[0]!,
      encoding: 'XOR' as const,
      chunk: Buffer.from(encodeXorChunk(s.timestamps, s.values)),
      histograms: [],
    }));
    for (let p = 0; p < 8; p++) {
      await serde.serialize('bench', {
        tenant: 'bench',
        producedAt: 0,
        series: chunked.slice(p * 250, p * 250 + 250),
      });
    }
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
