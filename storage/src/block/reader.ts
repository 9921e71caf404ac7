/**
 * Reads a block from an object store by byte ranges: meta.json, then the
 * index's table of contents, symbols and postings offset table; series and
 * chunks only for what a select asks for.
 */
import { corrupt, StorageError, StorageErrorCode, type StorageErrorContext, withContext } from '../errors.js';
import { type FloatHistogram, type Labels, type Matcher, type SampleIterator, ValueType } from '../model.js';
import type { ObjectStore } from '../objstore/object-store.js';
import { XOR_ENCODING, XorIterator } from '../tsz/xor.js';
import { checkSegmentHeader, readChunkAt, SEGMENT_HEADER_LEN, segmentName } from './chunks.js';
import type { ChunkMeta } from './index-format.js';
import { IndexReader } from './index-reader.js';
import { type BlockMeta, parseMeta } from './meta.js';

/** A chunk ref's segment file is its high 32 bits (see `splitChunkRef`). */
const TWO_32 = 4294967296;

/** A chunk of a selected series with its bytes. */
export interface LoadedChunk extends ChunkMeta {
  encoding: number;
  /** Chunk bytes including the XOR sample-count header. */
  bytes: Uint8Array;
  /** CRC32C of the encoding byte and the bytes, as the segment file holds it (checked on read). */
  crc?: number;
}

/** A series a select returns. */
export interface BlockSeries {
  readonly labels: Labels;
  /** Chunks overlapping the selected range, in time order. */
  readonly chunks: readonly LoadedChunk[];
  /** Iterates the samples in [mint, maxt] of the select; pass an iterator back to reuse it. */
  iterator(reuse?: SampleIterator): SampleIterator;
}

/** Chunk reads whose gap is below this are fetched as one range. */
const CHUNK_COALESCE_GAP = 64 * 1024;
/** Bytes fetched past the start of the last chunk of a range (chunks are rarely longer). */
const CHUNK_READ_AHEAD = 4096;

/** An open block. */
export class BlockReader {
  private constructor(
    private readonly store: ObjectStore,
    /** Key prefix of the block, without a trailing slash. */
    readonly dir: string,
    readonly meta: BlockMeta,
    readonly index: IndexReader,
    private chunkBytesRead: number,
  ) {}

  /** Bytes read from the store: index and chunks. */
  get bytesRead(): number {
    return this.index.bytesRead + this.chunkBytesRead;
  }

  /**
   * Opens the block at `dir` (e.g. "tenant/01H..."); typed errors name the
   * block and section. A caller that has read the block's meta (the
   * catalog has) passes it, and meta.json is not read again.
   */
  static async open(store: ObjectStore, dir: string, known?: BlockMeta): Promise<BlockReader> {
    const d = dir.replace(/\/+$/, '');
    const name = d.slice(d.lastIndexOf('/') + 1);
    const ctx = (section: string): StorageErrorContext => ({ block: d, section });
    let meta = known;
    let metaBytes = 0;
    if (meta === undefined) {
      let bytes: Uint8Array;
      try {
        bytes = await store.get(`${d}/meta.json`);
      } catch (e) {
        throw withContext(e, ctx('meta.json'));
      }
      meta = parseMeta(bytes, { block: d });
      metaBytes = bytes.length;
    }
    if (meta.ulid !== name && /^[0-7][0-9A-Z]{25}$/.test(name)) {
      throw corrupt(`open block: meta.json names ULID ${meta.ulid}`, ctx('meta.json'));
    }
    let size: number;
    try {
      const head = await store.head(`${d}/index`);
      if (head === undefined) {
        throw new StorageError(StorageErrorCode.NotFound, 'open block: index is missing', ctx('index'));
      }
      size = head.size;
    } catch (e) {
      throw withContext(e, ctx('index'));
    }
    const read = (offset: number, length: number) =>
      store.get(`${d}/index`, { offset, length }).catch((e: unknown) => {
        throw withContext(e, ctx('index'));
      });
    const index = await IndexReader.open(read, size, d);
    return new BlockReader(store, d, meta, index, metaBytes);
  }

  /** Label names in the block, sorted. */
  labelNames(): string[] {
    return this.index.labelNames();
  }

  /** Values of a label in the block, sorted. */
  labelValues(name: string): string[] {
    return this.index.labelValues(name);
  }

  /**
   * Series matching all matchers with chunks overlapping [mint, maxt]
   * (inclusive, ms), in label order, with their chunk bytes loaded.
   */
  async select(matchers: readonly Matcher[], mint: number, maxt: number): Promise<BlockSeries[]> {
    if (maxt < this.meta.minTime || mint >= this.meta.maxTime) return [];
    const refs = await this.index.postingsForMatchers(matchers);
    const entries = await this.index.series(refs);
    // The range's chunks of every series, in series order (so refs mostly ascend).
    const wanted: ChunkMeta[] = [];
    const firstOf = new Int32Array(entries.length + 1);
    for (let i = 0; i < entries.length; i++) {
      firstOf[i] = wanted.length;
      for (const c of entries[i]!.chunks) if (c.maxTime >= mint && c.minTime <= maxt) wanted.push(c);
    }
    firstOf[entries.length] = wanted.length;
    const loaded = await this.loadChunks(wanted);
    const out: BlockSeries[] = [];
    for (let i = 0; i < entries.length; i++) {
      const from = firstOf[i]!;
      const to = firstOf[i + 1]!;
      if (to === from) continue;
      out.push(new LoadedSeries(entries[i]!.labels, loaded.slice(from, to), mint, maxt));
    }
    return out;
  }

  /** Reads chunks by ref, coalescing nearby chunks of one segment file into one range. */
  async loadChunks(metas: readonly ChunkMeta[]): Promise<LoadedChunk[]> {
    const n = metas.length;
    // Refs usually come ascending already (series in index order); sort positions only when not.
    let ascending = true;
    for (let i = 1; i < n && ascending; i++) if (metas[i]!.ref < metas[i - 1]!.ref) ascending = false;
    const order: number[] | undefined = ascending
      ? undefined
      : metas.map((_, i) => i).sort((a, b) => metas[a]!.ref - metas[b]!.ref);
    const out: LoadedChunk[] = new Array(n);
    let i = 0;
    while (i < n) {
      const firstRef = metas[order === undefined ? i : order[i]!]!.ref;
      const seq = Math.floor(firstRef / TWO_32);
      const firstOffset = firstRef - seq * TWO_32;
      let j = i;
      // Refs of one segment file share the high 32 bits, so within it refs differ as offsets do.
      let curRef = firstRef;
      while (j + 1 < n) {
        const nextRef = metas[order === undefined ? j + 1 : order[j + 1]!]!.ref;
        if (Math.floor(nextRef / TWO_32) !== seq || nextRef - curRef > CHUNK_COALESCE_GAP) break;
        curRef = nextRef;
        j++;
      }
      const lastOffset = curRef - seq * TWO_32;
      const section = segmentName(seq);
      const ctx: StorageErrorContext = { block: this.dir, section };
      if (firstOffset < SEGMENT_HEADER_LEN)
        throw corrupt(`read chunk: offset ${firstOffset} inside the header`, ctx);
      const buf = await this.readSegment(seq, firstOffset, lastOffset - firstOffset + CHUNK_READ_AHEAD);
      for (let k = i; k <= j; k++) {
        const idx = order === undefined ? k : order[k]!;
        const m = metas[idx]!;
        const offset = m.ref - seq * TWO_32;
        let raw = readChunkAt(buf, offset - firstOffset, ctx);
        if (raw === undefined) {
          // Longer than the read-ahead: fetch it alone with the length it announces.
          const lenBytes = await this.readSegment(seq, offset, 5);
          const probe = readChunkAt(lenBytes, 0, ctx);
          const need = probe === undefined ? varintEnd(lenBytes) : probe.size;
          const own = await this.readSegment(seq, offset, need);
          raw = readChunkAt(own, 0, ctx);
          if (raw === undefined) throw corrupt(`read chunk at ${offset}: file ends inside the chunk`, ctx);
        }
        out[idx] = {
          minTime: m.minTime,
          maxTime: m.maxTime,
          ref: m.ref,
          encoding: raw.encoding,
          bytes: raw.data,
          crc: raw.crc,
        };
      }
      i = j + 1;
    }
    return out;
  }

  private async readSegment(seq: number, offset: number, length: number): Promise<Uint8Array> {
    const key = `${this.dir}/${segmentName(seq)}`;
    const ctx = { block: this.dir, section: segmentName(seq) };
    try {
      const b = await this.store.get(key, { offset, length });
      this.chunkBytesRead += b.length;
      return b;
    } catch (e) {
      throw withContext(e, ctx);
    }
  }

  /** Checks every segment file header and every chunk CRC (a full scan; for verification tools). */
  async verifyChunks(): Promise<void> {
    for (let seq = 0; ; seq++) {
      const key = `${this.dir}/${segmentName(seq)}`;
      const h = await this.store.head(key);
      if (h === undefined) break;
      const b = await this.store.get(key);
      this.chunkBytesRead += b.length;
      const ctx = { block: this.dir, section: segmentName(seq) };
      checkSegmentHeader(b, ctx);
      let at = SEGMENT_HEADER_LEN;
      while (at < b.length) {
        const c = readChunkAt(b, at, ctx);
        if (c === undefined) throw corrupt(`read chunk at ${at}: file ends inside the chunk`, ctx);
        at += c.size;
      }
    }
  }
}

/** Where a length varint ends, plus room for encoding and CRC and the data it announces. */
function varintEnd(b: Uint8Array): number {
  let len = 0;
  let mul = 1;
  for (let i = 0; i < b.length; i++) {
    len += (b[i]! & 0x7f) * mul;
    if (b[i]! < 0x80) return i + 1 + 1 + len + 4;
    mul *= 0x80;
  }
  return b.length;
}

/** A selected series with its loaded chunks; its iterator clips to the select's range. */
export class LoadedSeries implements BlockSeries {
  constructor(
    readonly labels: Labels,
    readonly chunks: readonly LoadedChunk[],
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  iterator(reuse?: SampleIterator): SampleIterator {
    const it = reuse instanceof ChunksIterator ? reuse : new ChunksIterator();
    it.reset(this.chunks, this.mint, this.maxt);
    return it;
  }
}

/**
 * Iterates the samples of a series' chunks in order, clipped to [mint, maxt].
 * Reusable; allocation-free per sample.
 */
export class ChunksIterator implements SampleIterator {
  private chunks: readonly LoadedChunk[] = [];
  private i = -1;
  private mint = Number.NEGATIVE_INFINITY;
  private maxt = Number.POSITIVE_INFINITY;
  private readonly xor = new XorIterator();
  private error: Error | undefined;
  private done = false;
  private positioned = false;

  /** Starts over on other chunks. */
  reset(
    chunks: readonly LoadedChunk[],
    mint = Number.NEGATIVE_INFINITY,
    maxt = Number.POSITIVE_INFINITY,
  ): void {
    this.chunks = chunks;
    this.i = -1;
    this.mint = mint;
    this.maxt = maxt;
    this.error = undefined;
    this.done = false;
    this.positioned = false;
  }

  private nextChunk(): boolean {
    for (;;) {
      this.i++;
      const c = this.chunks[this.i];
      if (c === undefined) return false;
      if (c.encoding !== XOR_ENCODING) {
        this.error = new StorageError(
          StorageErrorCode.Unsupported,
          `read chunk: encoding ${c.encoding} is not XOR (native histograms are not read yet)`,
        );
        return false;
      }
      if (c.maxTime < this.mint) continue;
      this.xor.reset(c.bytes);
      return true;
    }
  }

  next(): ValueType {
    if (this.done) return ValueType.None;
    for (;;) {
      if (this.i >= 0 && this.i < this.chunks.length && this.xor.next() === ValueType.Float) {
        const t = this.xor.atT();
        if (t < this.mint) continue;
        if (t > this.maxt) break;
        this.positioned = true;
        return ValueType.Float;
      }
      if (this.i >= 0 && this.i < this.chunks.length) {
        const e = this.xor.err();
        if (e !== undefined) {
          this.error = e;
          break;
        }
      }
      if (!this.nextChunk()) break;
    }
    this.done = true;
    return ValueType.None;
  }

  seek(t: number): ValueType {
    if (this.done) return ValueType.None;
    if (this.positioned && this.xor.atT() >= t) return ValueType.Float;
    if (t > this.mint) this.mint = t;
    // A current chunk that ends before t is skipped whole.
    const cur = this.chunks[this.i];
    if (cur !== undefined && cur.maxTime < t && !this.nextChunk()) {
      this.done = true;
      return ValueType.None;
    }
    return this.next();
  }

  /**
   * Copies the current sample and the following ones of the current chunk
   * (times at or before `maxt` and the iterator's own end) into `t`/`f` from
   * index `at`, stopping before `limit`; leaves the iterator on the last sample
   * copied and returns how many were copied. Call only while positioned on a
   * sample; `next()` then moves past the copied ones.
   */
  copyFloats(t: Float64Array, f: Float64Array, at: number, limit: number, maxt: number): number {
    return this.xor.copyFloats(t, f, at, limit, Math.min(maxt, this.maxt));
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
    return this.error;
  }
}
