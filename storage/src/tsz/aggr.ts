/**
 * The AggrChunk: Thanos' downsampled chunk, five XOR sub-chunks (count, sum,
 * min, max, counter) in one chunk of encoding 0xff. The layout and the
 * counter's extra samples are specified in storage/docs/aggr-chunk.md.
 */
import { corrupt, StorageError, StorageErrorCode } from '../errors.js';
import { type FloatHistogram, type SampleIterator, ValueType } from '../model.js';
import { XOR_ENCODING, XorIterator } from './xor.js';

/** The chunk encoding byte of an AggrChunk in segment files (Thanos' ChunkEncAggr). */
export const AGGR_ENCODING = 0xff;

/** The aggregates of an AggrChunk, numbered as Thanos' AggrType (the entry order). */
export const AggrType = {
  Count: 0,
  Sum: 1,
  Min: 2,
  Max: 3,
  Counter: 4,
} as const;
export type AggrType = (typeof AggrType)[keyof typeof AggrType];

/** Number of entries in every AggrChunk. */
export const AGGR_TYPES = 5;

/** Names of the aggregates, by AggrType, as Thanos prints them. */
export const AGGR_NAMES = ['count', 'sum', 'min', 'max', 'counter'] as const;

/** One sub-chunk: its encoding byte and bytes (an XOR chunk with its header). */
export interface AggrPart {
  readonly encoding: number;
  readonly bytes: Uint8Array;
}

function uvarintLen(n: number): number {
  let len = 1;
  for (let x = n; x >= 0x80; x = Math.floor(x / 0x80)) len++;
  return len;
}

function putUvarint(out: Uint8Array, at: number, n: number): number {
  let p = at;
  let x = n;
  while (x >= 0x80) {
    out[p++] = (x % 0x80) | 0x80;
    x = Math.floor(x / 0x80);
  }
  out[p++] = x;
  return p;
}

/**
 * Joins up to five sub-chunks, by AggrType, into an AggrChunk; an undefined
 * entry is an absent aggregate. Same parts, same bytes.
 */
export function encodeAggrChunk(parts: readonly (AggrPart | undefined)[]): Uint8Array {
  if (parts.length !== AGGR_TYPES) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `encode AggrChunk: ${parts.length} parts given, an AggrChunk has ${AGGR_TYPES}`,
    );
  }
  let size = 0;
  for (const p of parts) {
    // An empty sub-chunk would read as absent, so it is written as absent.
    size += p === undefined || p.bytes.length === 0 ? 1 : uvarintLen(p.bytes.length) + 1 + p.bytes.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    if (p === undefined || p.bytes.length === 0) {
      out[at++] = 0;
      continue;
    }
    at = putUvarint(out, at, p.bytes.length);
    out[at++] = p.encoding;
    out.set(p.bytes, at);
    at += p.bytes.length;
  }
  return out;
}

/**
 * Splits an AggrChunk into its sub-chunks without copying; reusable across
 * chunks through `reset`. Throws `corrupt` when a length runs past the end.
 */
export class AggrChunkView {
  private bytes: Uint8Array = new Uint8Array(0);
  // Start of each sub-chunk's data (after its encoding byte) and its length; -1 when absent.
  private readonly starts = new Int32Array(AGGR_TYPES);
  private readonly lens = new Int32Array(AGGR_TYPES);
  private readonly encs = new Uint8Array(AGGR_TYPES);

  constructor(bytes?: Uint8Array) {
    if (bytes !== undefined) this.reset(bytes);
  }

  /** Starts over on another AggrChunk's bytes. */
  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    let p = 0;
    for (let t = 0; t < AGGR_TYPES; t++) {
      let len = 0;
      let mul = 1;
      for (let i = 0; ; i++) {
        if (p >= bytes.length) throw corrupt(`read AggrChunk: ${AGGR_NAMES[t]} length runs past the end`);
        if (i >= 5) throw corrupt(`read AggrChunk: ${AGGR_NAMES[t]} length varint too long`);
        const b = bytes[p++]!;
        len += (b & 0x7f) * mul;
        if (b < 0x80) break;
        mul *= 0x80;
      }
      if (len === 0) {
        this.starts[t] = -1;
        this.lens[t] = 0;
        continue;
      }
      if (p + 1 + len > bytes.length) {
        throw corrupt(`read AggrChunk: ${AGGR_NAMES[t]} holds ${len} bytes but the chunk ends first`);
      }
      this.encs[t] = bytes[p]!;
      this.starts[t] = p + 1;
      this.lens[t] = len;
      p += 1 + len;
    }
  }

  /** Whether the aggregate is present. */
  has(t: AggrType): boolean {
    return this.starts[t]! >= 0;
  }

  /** The encoding byte of a present aggregate. */
  encoding(t: AggrType): number {
    return this.encs[t]!;
  }

  /** The bytes of an aggregate's sub-chunk (a view), or undefined when absent. */
  part(t: AggrType): Uint8Array | undefined {
    const s = this.starts[t]!;
    return s < 0 ? undefined : this.bytes.subarray(s, s + this.lens[t]!);
  }

  /** Samples the chunk holds: those of its count aggregate (0 without one), as Thanos counts them. */
  numSamples(): number {
    const s = this.starts[AggrType.Count]!;
    if (s < 0 || this.lens[AggrType.Count]! < 2) return 0;
    return (this.bytes[s]! << 8) | this.bytes[s + 1]!;
  }
}

function checkXor(view: AggrChunkView, t: AggrType): void {
  if (view.encoding(t) !== XOR_ENCODING) {
    throw new StorageError(
      StorageErrorCode.Unsupported,
      `read AggrChunk: ${AGGR_NAMES[t]} has encoding ${view.encoding(t)}; only float (XOR) aggregates are read`,
    );
  }
}

/**
 * Iterates one aggregate of an AggrChunk (the raw sub-chunk samples, the
 * counter's two extra samples included). Reusable through `reset`; no
 * allocation per sample.
 */
export class AggrIterator implements SampleIterator {
  private readonly xor = new XorIterator();
  private readonly view = new AggrChunkView();
  private empty = true;
  private error: Error | undefined;

  /** Starts over on aggregate `t` of another AggrChunk; an absent aggregate iterates nothing. */
  reset(chunk: Uint8Array, t: AggrType): void {
    this.error = undefined;
    this.empty = true;
    try {
      this.view.reset(chunk);
      const part = this.view.part(t);
      if (part === undefined) return;
      checkXor(this.view, t);
      this.xor.reset(part);
      this.empty = false;
    } catch (e) {
      this.error = e as Error;
    }
  }

  next(): ValueType {
    return this.empty ? ValueType.None : this.xor.next();
  }

  seek(t: number): ValueType {
    return this.empty ? ValueType.None : this.xor.seek(t);
  }

  atT(): number {
    return this.xor.atT();
  }

  at(): number {
    return this.xor.at();
  }

  atHistogram(): FloatHistogram {
    return this.xor.atHistogram();
  }

  err(): Error | undefined {
    return this.error ?? (this.empty ? undefined : this.xor.err());
  }
}

/**
 * Iterates the counter aggregates of consecutive AggrChunks (or raw XOR
 * counter chunks) as one monotone series, resets folded into a running
 * total, as Thanos' ApplyCounterResetsSeriesIterator does (aggr-chunk.md,
 * "Reading a counter across chunks"). `lastRaw` is the true last raw value
 * once the iteration ends. Reusable through `reset`; no allocation per sample.
 */
export class CounterSeriesIterator implements SampleIterator {
  private readonly xor = new XorIterator();
  private readonly view = new AggrChunkView();
  private chunks: readonly Uint8Array[] = [];
  private aggr = true;
  private i = 0;
  private started = false;
  private total = 0;
  private lastT = 0;
  private lastV = 0;
  private totalV = 0;
  private error: Error | undefined;

  /**
   * Starts over on a list of chunks in time order: AggrChunks (`aggr` true,
   * their counter aggregates are read) or XOR chunks of raw counter samples.
   */
  reset(chunks: readonly Uint8Array[], aggr = true): void {
    this.chunks = chunks;
    this.aggr = aggr;
    this.i = -1;
    this.total = 0;
    this.lastT = 0;
    this.lastV = 0;
    this.totalV = 0;
    this.error = undefined;
    this.started = false;
    this.openNext();
  }

  /** Opens the next chunk that has a counter; false at the end or on error. */
  private openNext(): boolean {
    while (++this.i < this.chunks.length) {
      const c = this.chunks[this.i]!;
      if (!this.aggr) {
        this.xor.reset(c);
        return true;
      }
      try {
        this.view.reset(c);
        const part = this.view.part(AggrType.Counter);
        if (part === undefined) continue;
        checkXor(this.view, AggrType.Counter);
        this.xor.reset(part);
        return true;
      } catch (e) {
        this.error = e as Error;
        this.i = this.chunks.length;
        return false;
      }
    }
    return false;
  }

  next(): ValueType {
    while (this.i < this.chunks.length) {
      if (this.xor.next() === ValueType.None) {
        const e = this.xor.err();
        if (e !== undefined) {
          this.error = e;
          this.i = this.chunks.length;
          return ValueType.None;
        }
        if (!this.openNext()) return ValueType.None;
        continue;
      }
      const t = this.xor.atT();
      const v = this.xor.at();
      if (Number.isNaN(v)) continue;
      if (this.total === 0) {
        this.total = 1;
        this.lastT = t;
        this.lastV = v;
        this.totalV = v;
        this.started = true;
        return ValueType.Float;
      }
      if (t > this.lastT) {
        this.totalV += v >= this.lastV ? v - this.lastV : v;
        this.lastT = t;
        this.lastV = v;
        this.total++;
        return ValueType.Float;
      }
      // The same time again is the chunk's true last raw value; earlier times are skipped.
      if (t === this.lastT) this.lastV = v;
    }
    return ValueType.None;
  }

  seek(t: number): ValueType {
    if (this.started && this.lastT >= t) return ValueType.Float;
    while (this.next() !== ValueType.None) if (this.lastT >= t) return ValueType.Float;
    return ValueType.None;
  }

  atT(): number {
    return this.lastT;
  }

  at(): number {
    return this.totalV;
  }

  /** The last raw counter value seen (the true value, resets not folded in). */
  get lastRaw(): number {
    return this.lastV;
  }

  atHistogram(): FloatHistogram {
    return this.xor.atHistogram();
  }

  err(): Error | undefined {
    return this.error;
  }
}
