/**
 * Merges the series of several blocks into one stream in label order. A
 * series held by many blocks gets their chunks in time order; chunks that
 * overlap in time (vertical compaction: replay, imports) are decoded, their
 * samples merged with one sample per timestamp kept (the first source's),
 * and cut again into XOR chunks.
 */
import { SeriesChunker } from '../block/chunker.js';
import { compareLabels } from '../block/labels.js';
import type { ChunkInput } from '../block/writer.js';
import { SampleBuffer } from '../downsample/downsample.js';
import { StorageError, StorageErrorCode } from '../errors.js';
import { type Labels, ValueType } from '../model.js';
import { XOR_ENCODING, XorIterator } from '../tsz/xor.js';
import type { FullSeries } from './block-series.js';

/** One merged series. */
export interface MergedSeries {
  readonly labels: Labels;
  readonly chunks: ChunkInput[];
  /** Samples dropped because another source had the same timestamp. */
  readonly duplicates: number;
}

interface Head {
  it: AsyncIterator<FullSeries>;
  cur: FullSeries | undefined;
}

/** Merges series streams (each in label order) into one, in label order. */
export async function* mergeSeries(
  sources: readonly AsyncIterable<FullSeries>[],
  chunkRange: number,
): AsyncGenerator<MergedSeries> {
  const heads: Head[] = [];
  for (const s of sources) {
    const it = s[Symbol.asyncIterator]();
    const r = await it.next();
    heads.push({ it, cur: r.done ? undefined : r.value });
  }
  const merger = new ChunkMerger(chunkRange);
  for (;;) {
    let min: Labels | undefined;
    for (const h of heads)
      if (h.cur !== undefined && (min === undefined || compareLabels(h.cur.labels, min) < 0))
        min = h.cur.labels;
    if (min === undefined) return;
    const parts: FullSeries[] = [];
    for (const h of heads) {
      if (h.cur === undefined || compareLabels(h.cur.labels, min) !== 0) continue;
      parts.push(h.cur);
      const r = await h.it.next();
      h.cur = r.done ? undefined : r.value;
    }
    yield merger.merge(min, parts);
  }
}

/** Merges the chunks of one series from many blocks. */
export class ChunkMerger {
  private readonly it = new XorIterator();
  private readonly buf = new SampleBuffer();

  constructor(private readonly chunkRange: number) {}

  merge(labels: Labels, parts: readonly FullSeries[]): MergedSeries {
    const all: ChunkInput[] = [];
    for (const p of parts) for (const c of p.chunks) all.push(c);
    if (parts.length > 1) all.sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
    const out: ChunkInput[] = [];
    let duplicates = 0;
    let i = 0;
    while (i < all.length) {
      let j = i + 1;
      let maxT = all[i]!.maxTime;
      while (j < all.length && all[j]!.minTime <= maxT) {
        maxT = Math.max(maxT, all[j]!.maxTime);
        j++;
      }
      if (j === i + 1) out.push(all[i]!);
      else duplicates += this.mergeOverlapping(all.slice(i, j), out);
      i = j;
    }
    return { labels, chunks: out, duplicates };
  }

  /** Decodes overlapping XOR chunks, keeps one sample per time, cuts new chunks into `out`. */
  private mergeOverlapping(group: readonly ChunkInput[], out: ChunkInput[]): number {
    const buf = this.buf;
    buf.clear();
    for (const c of group) {
      if ((c.encoding ?? XOR_ENCODING) !== XOR_ENCODING) {
        throw new StorageError(
          StorageErrorCode.Unsupported,
          `compact: overlapping chunks of encoding ${c.encoding} cannot be merged (only raw XOR chunks can)`,
        );
      }
      this.it.reset(c.bytes);
      while (this.it.next() !== ValueType.None) buf.push(this.it.atT(), this.it.at());
      const e = this.it.err();
      if (e !== undefined) throw e;
    }
    // A stable order by time: for equal times the earlier source's sample comes first and is kept.
    const order = Array.from({ length: buf.n }, (_, k) => k);
    order.sort((a, b) => buf.t[a]! - buf.t[b]! || a - b);
    const chunker = new SeriesChunker(this.chunkRange);
    let dropped = 0;
    for (const k of order) if (!chunker.append(buf.t[k]!, buf.v[k]!)) dropped++;
    chunker.flush();
    for (const c of chunker.chunks) out.push(c);
    return dropped;
  }
}
