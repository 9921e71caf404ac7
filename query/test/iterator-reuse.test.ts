import { encodeXorChunk, type Labels, MemoryObjectStore, writeBlock } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { BlockQuerier } from '../src/blocks/block-querier.js';
import { openStorageBlock } from '../src/blocks/storage-block.js';
import { MemoryQuerier } from '../src/memory-querier.js';
import { Engine } from '../src/promql/engine.js';
import { labelsOf } from './support/array-querier.js';

// The engine hands each finished series iterator back for the next series;
// over storage blocks that reuses decoders and chained iterators whose part
// counts differ from series to series. The answers must equal those over the
// same samples held in memory.

const H = 3_600_000;

/** Samples every 30 s in [from, to), values a function of series and time. */
function samples(k: number, from: number, to: number): { ts: number[]; vs: number[] } {
  const ts: number[] = [];
  const vs: number[] = [];
  for (let t = from; t < to; t += 30_000) {
    ts.push(t);
    vs.push(k * 1000 + (t / 30_000) * (k + 1) + (t % 7));
  }
  return { ts, vs };
}

describe('series iterator reuse over storage blocks', () => {
  it('range queries agree with the in-memory querier', async () => {
    const store = new MemoryObjectStore();
    const memory = new MemoryQuerier();
    // Which of the two 2 h blocks each series has samples in: both, second only, first only.
    const spans: Array<[boolean, boolean]> = [
      [true, true],
      [true, true],
      [false, true],
      [true, false],
      [true, true],
      [false, true],
      [true, true],
      [true, true],
    ];
    const perBlock: Array<
      Array<{ labels: Labels; chunks: { minTime: number; maxTime: number; bytes: Uint8Array }[] }>
    > = [[], []];
    spans.forEach((span, k) => {
      const labels = labelsOf({ __name__: 'm', s: `s${k}` });
      for (let b = 0; b < 2; b++) {
        if (!span[b]) continue;
        const chunks: { minTime: number; maxTime: number; bytes: Uint8Array }[] = [];
        // One-hour chunks, so a window may start in one chunk and end in the next.
        for (let c = 0; c < 2; c++) {
          const from = b * 2 * H + c * H;
          const { ts, vs } = samples(k, from, from + H);
          for (let i = 0; i < ts.length; i++) memory.appendFloat(labels, ts[i] as number, vs[i] as number);
          chunks.push({
            minTime: ts[0] as number,
            maxTime: ts[ts.length - 1] as number,
            bytes: encodeXorChunk(ts, vs),
          });
        }
        perBlock[b]?.push({ labels, chunks });
      }
    });
    const blocks = [];
    for (let b = 0; b < 2; b++) {
      const meta = await writeBlock(store, 't', perBlock[b] ?? [], {
        minTime: b * 2 * H,
        maxTime: (b + 1) * 2 * H,
      });
      blocks.push(await openStorageBlock(store, `t/${meta.ulid}`, meta));
    }
    const onBlocks = new BlockQuerier(blocks);
    const engine = new Engine();
    for (const q of ['m', 'rate(m[5m])', 'max_over_time(m[10m])', 'sum(m)', 'topk(2, m)']) {
      const want = await engine.rangeQuery(memory, q, H, 3 * H, 60_000);
      const got = await engine.rangeQuery(onBlocks, q, H, 3 * H, 60_000);
      expect(got.value, q).toEqual(want.value);
      expect(got.value.resultType).toBe('matrix');
      if (got.value.resultType === 'matrix') expect(got.value.result.length, q).toBeGreaterThan(0);
    }
  });
});
