/**
 * Builds one block range from its samples in input order: each series'
 * samples go straight into its chunker. A sample older than its series' last
 * one is put aside; at the end such a series is decoded, merged with what was
 * put aside, sorted (stable, so the first of equal times wins) and cut again.
 * This gives the chunks a sort of the whole range would, holding only the
 * compressed chunks plus the out-of-order samples.
 */
import { type Label, ValueType } from '../model.js';
import { XorIterator } from '../tsz/xor.js';
import { ByteArena } from './byte-arena.js';
import { SeriesChunker } from './chunker.js';
import type { SeriesInput } from './writer.js';

/** Samples of one series that arrived out of order. */
interface Stray {
  ts: number[];
  /** Values as raw float64s, so NaN payloads survive. */
  vs: Float64Array;
  n: number;
}

/** Chunkers of the series of one range, by series ref. */
export class RangeBuilder {
  private readonly chunkers = new Map<number, SeriesChunker>();
  private readonly strays = new Map<number, Stray>();
  // Finished chunks are packed in slabs: a chunk costs its bytes, not the appender's grown buffer.
  private readonly arena = new ByteArena();
  private readonly finished: { ref: number; chunks: SeriesInput['chunks'] }[] = [];
  private current = -1;

  /**
   * `grouped` says each series' samples come in one run (RangeSpill's
   * `interleaved` is false): a series is then cut as soon as the next one
   * starts, so one chunker is open at a time instead of one per series.
   */
  constructor(
    private readonly chunkRange: number,
    private readonly grouped = false,
  ) {}

  /** Adds the interleaved (ref, t, v) records of a spill batch. */
  addRecords(records: Float64Array, count: number): void {
    for (let i = 0; i < count * 3; i += 3) this.add(records[i]!, records[i + 1]!, records[i + 2]!);
  }

  /** Adds one sample. */
  add(ref: number, t: number, v: number): void {
    if (this.grouped && ref !== this.current) {
      if (this.current >= 0) this.finish(this.current);
      this.current = ref;
    }
    let c = this.chunkers.get(ref);
    if (c === undefined) {
      c = new SeriesChunker(this.chunkRange, this.arena.copy);
      this.chunkers.set(ref, c);
    }
    const last = c.lastTime;
    if (last === undefined || t > last) {
      c.append(t, v);
      return;
    }
    if (t === last) return; // A repeat of the last time: the first one wins.
    let s = this.strays.get(ref);
    if (s === undefined) this.strays.set(ref, (s = { ts: [], vs: new Float64Array(16), n: 0 }));
    if (s.n === s.vs.length) {
      const grown = new Float64Array(s.n * 2);
      grown.set(s.vs);
      s.vs = grown;
    }
    s.ts.push(t);
    s.vs[s.n++] = v;
  }

  /** Closes a series: its chunks are final. */
  private finish(ref: number): void {
    const c = this.chunkers.get(ref);
    if (c === undefined) return;
    c.flush();
    const stray = this.strays.get(ref);
    this.finished.push({ ref, chunks: stray === undefined ? c.chunks : this.resort(c, stray) });
    this.chunkers.delete(ref);
    this.strays.delete(ref);
  }

  /** The series with their chunks; the builder is spent afterwards. */
  series(labels: (ref: number) => Label[]): SeriesInput[] {
    for (const ref of [...this.chunkers.keys()]) this.finish(ref);
    return this.finished.map((f) => ({ labels: labels(f.ref), chunks: f.chunks }));
  }

  /** Cuts a series again from its chunks and its out-of-order samples, in time order. */
  private resort(c: SeriesChunker, stray: Stray): SeriesChunker['chunks'] {
    let n = stray.ts.length;
    for (const ch of c.chunks) n += (ch.bytes[0]! << 8) | ch.bytes[1]!;
    // Typed arrays keep NaN payloads, which plain arrays may canonicalize.
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    let k = 0;
    const it = new XorIterator();
    for (const ch of c.chunks) {
      it.reset(ch.bytes);
      while (it.next() === ValueType.Float) {
        ts[k] = it.atT();
        vs[k++] = it.at();
      }
    }
    for (let i = 0; i < stray.ts.length; i++) {
      ts[k] = stray.ts[i]!;
      vs[k++] = stray.vs[i]!;
    }
    const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => ts[a]! - ts[b]! || a - b);
    const again = new SeriesChunker(this.chunkRange, this.arena.copy);
    for (const i of order) again.append(ts[i]!, vs[i]!);
    again.flush();
    return again.chunks;
  }
}
