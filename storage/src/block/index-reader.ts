/**
 * Reads a TSDB index (format 2) by byte ranges: the table of contents, the
 * symbols and the postings offset table when opened; postings lists and
 * series entries on demand.
 */

import { crc32c } from '../checksum/crc32c.js';
import { corrupt, StorageError, StorageErrorCode, type StorageErrorContext } from '../errors.js';
import type { Label, Matcher } from '../model.js';
import { compareUtf8, Decbuf } from './encoding.js';
import {
  type ChunkMeta,
  INDEX_MAGIC,
  INDEX_VERSION,
  type IndexToc,
  SERIES_ALIGN,
  TOC_LEN,
} from './index-format.js';
import { intersect, merge, subtract } from './postings.js';

/** Reads `length` bytes at `offset` of the index file. */
export type RangeRead = (offset: number, length: number) => Promise<Uint8Array>;

/** A series entry: its labels and chunk metas. */
export interface IndexSeriesEntry {
  ref: number;
  labels: Label[];
  chunks: ChunkMeta[];
}

interface PostingsRange {
  values: string[];
  /** Start of each value's postings list; one more entry: the end of the last list. */
  offsets: number[];
}

/** How many bytes a series read fetches beyond the last wanted entry start. */
const SERIES_READ_AHEAD = 1024;
/** Series reads whose gap is below this are fetched as one range. */
const SERIES_COALESCE_GAP = 16 * 1024;

/** Checks a `len <4b> | content | CRC <4b>` section in `b` at `at`; returns the content. */
function checkedSection(b: Uint8Array, at: number, ctx: StorageErrorContext, what: string): Uint8Array {
  const d = new Decbuf(b, ctx, at);
  const len = d.be32();
  if (len > d.remaining - 4) throw corrupt(`read ${what}: length ${len} runs past the section`, ctx);
  const content = d.bytes(len);
  const want = d.be32();
  if (crc32c(content) !== want) throw corrupt(`read ${what}: CRC32C mismatch`, ctx);
  return content;
}

/** An open index. */
export class IndexReader {
  /** Bytes fetched from the store so far (for benchmarks and metrics). */
  bytesRead = 0;

  private constructor(
    private readonly read: RangeRead,
    private readonly block: string,
    readonly toc: IndexToc,
    readonly symbols: string[],
    private readonly postingsTable: Map<string, PostingsRange>,
    readonly size: number,
  ) {}

  private ctx(section: string): StorageErrorContext {
    return { block: this.block, section: `index/${section}` };
  }

  /** Opens the index of `block` (a name for errors) of `size` bytes. */
  static async open(read: RangeRead, size: number, block: string): Promise<IndexReader> {
    const ctx = (section: string): StorageErrorContext => ({ block, section: `index/${section}` });
    if (size < 5 + TOC_LEN) throw corrupt(`open index: ${size} bytes is too short`, ctx('toc'));
    let bytesRead = 0;
    const get = async (offset: number, length: number): Promise<Uint8Array> => {
      const b = await read(offset, length);
      bytesRead += b.length;
      if (b.length !== length)
        throw corrupt(`read index: ${b.length} of ${length} bytes at ${offset}`, ctx('file'));
      return b;
    };
    const head = await get(0, 5);
    const hd = new Decbuf(head, ctx('header'));
    const magic = hd.be32();
    if (magic !== INDEX_MAGIC)
      throw corrupt(`open index: magic 0x${magic.toString(16)} is wrong`, ctx('header'));
    const version = hd.byte();
    if (version !== INDEX_VERSION) {
      throw new StorageError(
        StorageErrorCode.Unsupported,
        `open index: format ${version} is not 2`,
        ctx('header'),
      );
    }
    const tocBytes = await get(size - TOC_LEN, TOC_LEN);
    if (crc32c(tocBytes.subarray(0, TOC_LEN - 4)) !== new Decbuf(tocBytes, ctx('toc'), TOC_LEN - 4).be32()) {
      throw corrupt('read table of contents: CRC32C mismatch', ctx('toc'));
    }
    const td = new Decbuf(tocBytes, ctx('toc'));
    const toc: IndexToc = {
      symbols: td.be64(),
      series: td.be64(),
      labelIndices: td.be64(),
      labelIndicesTable: td.be64(),
      postings: td.be64(),
      postingsTable: td.be64(),
    };
    const end = size - TOC_LEN;
    const order = [
      toc.symbols,
      toc.series,
      toc.labelIndices,
      toc.postings,
      toc.labelIndicesTable,
      toc.postingsTable,
    ];
    for (let i = 0; i < order.length; i++) {
      if (order[i]! < 5 || order[i]! > end || (i > 0 && order[i]! < order[i - 1]!)) {
        throw corrupt('read table of contents: section offsets out of order or range', ctx('toc'));
      }
    }

    // Symbols: the section runs from its offset to the series section.
    const symBytes = await get(toc.symbols, toc.series - toc.symbols);
    const sd = new Decbuf(checkedSection(symBytes, 0, ctx('symbols'), 'symbols'), ctx('symbols'));
    const count = sd.be32();
    if (count > sd.remaining)
      throw corrupt(`read symbols: count ${count} exceeds the section`, ctx('symbols'));
    const symbols: string[] = new Array(count);
    for (let i = 0; i < count; i++) symbols[i] = sd.uvarintStr();

    // Postings offset table: name, value -> offset of each postings list.
    const ptBytes = await get(toc.postingsTable, end - toc.postingsTable);
    const pd = new Decbuf(
      checkedSection(ptBytes, 0, ctx('postings-offset-table'), 'postings offset table'),
      ctx('postings-offset-table'),
    );
    const n = pd.be32();
    const table = new Map<string, PostingsRange>();
    let prev: PostingsRange | undefined;
    let prevOffset = -1;
    for (let i = 0; i < n; i++) {
      if (pd.uvarint() !== 2) pd.fail('postings offset entry with other than two strings');
      const name = pd.uvarintStr();
      const value = pd.uvarintStr();
      const offset = pd.uvarint();
      if (offset <= prevOffset || offset < toc.postings || offset >= toc.labelIndicesTable) {
        pd.fail('postings offset out of order or outside the postings section');
      }
      let r = table.get(name);
      if (r === undefined) {
        if (prev !== undefined) prev.offsets.push(offset);
        r = { values: [], offsets: [] };
        table.set(name, r);
        prev = r;
      } else if (r !== prev) {
        pd.fail(`postings offset table lists name ${JSON.stringify(name)} twice apart`);
      }
      r.values.push(value);
      r.offsets.push(offset);
      prevOffset = offset;
    }
    if (prev !== undefined) prev.offsets.push(toc.labelIndicesTable);
    const reader = new IndexReader(read, block, toc, symbols, table, size);
    reader.bytesRead = bytesRead;
    return reader;
  }

  /** Label names of the block, sorted (the all-postings key excluded). */
  labelNames(): string[] {
    return [...this.postingsTable.keys()].filter((n) => n !== '');
  }

  /** Values of one label name, sorted. */
  labelValues(name: string): string[] {
    if (name === '') return [];
    return [...(this.postingsTable.get(name)?.values ?? [])];
  }

  /** The postings list of one label pair (empty when absent). */
  async postings(name: string, value: string): Promise<Uint32Array> {
    const r = this.postingsTable.get(name);
    if (r === undefined) return new Uint32Array(0);
    const i = binarySearch(r.values, value);
    if (i < 0) return new Uint32Array(0);
    return (await this.readPostings(r, [i]))[0]!;
  }

  /** Reads the postings lists of the given value indexes of one name, as one range. */
  private async readPostings(r: PostingsRange, idx: readonly number[]): Promise<Uint32Array[]> {
    if (idx.length === 0) return [];
    const ctx = this.ctx('postings');
    const first = r.offsets[idx[0]!]!;
    const last = r.offsets[idx[idx.length - 1]! + 1]!;
    const b = await this.read(first, last - first);
    this.bytesRead += b.length;
    if (b.length !== last - first) throw corrupt(`read postings: ${b.length} of ${last - first} bytes`, ctx);
    return idx.map((i) => {
      const content = checkedSection(b, r.offsets[i]! - first, ctx, 'postings list');
      const d = new Decbuf(content, ctx);
      const n = d.be32();
      if (n * 4 !== d.remaining) d.fail(`postings count ${n} against ${d.remaining} bytes`);
      const out = new Uint32Array(n);
      for (let k = 0; k < n; k++) {
        out[k] = d.be32();
        if (k > 0 && out[k]! <= out[k - 1]!) d.fail('postings not ascending');
      }
      return out;
    });
  }

  /** Series refs matching every matcher, ascending (Prometheus' PostingsForMatchers). */
  async postingsForMatchers(matchers: readonly Matcher[]): Promise<Uint32Array> {
    let result: Uint32Array | undefined;
    const negatives: Matcher[] = [];
    for (const m of matchers) {
      if (m.matches('')) {
        negatives.push(m);
        continue;
      }
      const p = await this.postingsMatching(m.name, (v) => m.matches(v));
      result = result === undefined ? p : intersect(result, p);
      if (result.length === 0) return result;
    }
    if (result === undefined) result = await this.postings('', '');
    for (const m of negatives) {
      // Series whose value for the name does not match; absent labels match "".
      const p = await this.postingsMatching(m.name, (v) => !m.matches(v));
      result = subtract(result, p);
    }
    return result;
  }

  private async postingsMatching(name: string, pred: (v: string) => boolean): Promise<Uint32Array> {
    const r = this.postingsTable.get(name);
    if (r === undefined || name === '') return new Uint32Array(0);
    const idx: number[] = [];
    for (let i = 0; i < r.values.length; i++) if (pred(r.values[i]!)) idx.push(i);
    if (idx.length === 0) return new Uint32Array(0);
    // Values next to each other are read as one range; far apart ones separately.
    const groups: number[][] = [];
    for (const i of idx) {
      const g = groups[groups.length - 1];
      if (g !== undefined && r.offsets[i]! - r.offsets[g[g.length - 1]! + 1]! < SERIES_COALESCE_GAP)
        g.push(i);
      else groups.push([i]);
    }
    const lists: Uint32Array[] = [];
    for (const g of groups) lists.push(...(await this.readPostings(r, g)));
    return merge(lists);
  }

  /** Reads the series entries of ascending refs, coalescing nearby ones into one range read. */
  async series(refs: ArrayLike<number>): Promise<IndexSeriesEntry[]> {
    const out: IndexSeriesEntry[] = [];
    const end = this.toc.labelIndices;
    let i = 0;
    while (i < refs.length) {
      const start = refs[i]! * SERIES_ALIGN;
      let j = i;
      while (
        j + 1 < refs.length &&
        refs[j + 1]! * SERIES_ALIGN - refs[j]! * SERIES_ALIGN < SERIES_COALESCE_GAP
      )
        j++;
      const stop = Math.min(end, refs[j]! * SERIES_ALIGN + SERIES_READ_AHEAD);
      const buf = await this.fetch(start, stop - start);
      for (let k = i; k <= j; k++) {
        const at = refs[k]! * SERIES_ALIGN - start;
        let e = this.decodeSeries(buf, at, refs[k]!);
        if (e === undefined) {
          // The entry runs past what was fetched: read it on its own, long enough.
          const own = await this.fetch(
            refs[k]! * SERIES_ALIGN,
            Math.min(end - refs[k]! * SERIES_ALIGN, 1 << 20),
          );
          e = this.decodeSeries(own, 0, refs[k]!);
          if (e === undefined)
            throw corrupt(`read series ${refs[k]}: entry runs past the section`, this.ctx('series'));
        }
        out.push(e);
      }
      i = j + 1;
    }
    return out;
  }

  private async fetch(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.toc.series || length < 0 || offset + length > this.toc.labelIndices) {
      throw corrupt(`read series at ${offset}: outside the series section`, this.ctx('series'));
    }
    const b = await this.read(offset, length);
    this.bytesRead += b.length;
    return b;
  }

  /** Decodes one series entry at `at`; undefined when the bytes end first. */
  private decodeSeries(buf: Uint8Array, at: number, ref: number): IndexSeriesEntry | undefined {
    const ctx = this.ctx('series');
    const d = new Decbuf(buf, ctx, at);
    let len: number;
    try {
      len = d.uvarint();
    } catch {
      return undefined;
    }
    if (d.remaining < len + 4) return undefined;
    const content = d.bytes(len);
    if (crc32c(content) !== d.be32()) throw corrupt(`read series ${ref}: CRC32C mismatch`, ctx);
    const c = new Decbuf(content, ctx);
    const nl = c.uvarint();
    if (nl > content.length) c.fail('label count');
    const labels: Label[] = new Array(nl);
    for (let i = 0; i < nl; i++) {
      const n = this.symbols[c.uvarint()];
      const v = this.symbols[c.uvarint()];
      if (n === undefined || v === undefined)
        throw corrupt(`read series ${ref}: symbol ref out of range`, ctx);
      labels[i] = { name: n, value: v };
    }
    const nc = c.uvarint();
    if (nc > content.length) c.fail('chunk count');
    const chunks: ChunkMeta[] = new Array(nc);
    let prev: ChunkMeta | undefined;
    for (let i = 0; i < nc; i++) {
      let m: ChunkMeta;
      if (prev === undefined) {
        const minTime = c.varint();
        m = { minTime, maxTime: minTime + c.uvarint(), ref: c.uvarint() };
      } else {
        const minTime = prev.maxTime + c.uvarint();
        m = { minTime, maxTime: minTime + c.uvarint(), ref: prev.ref + c.varint() };
      }
      chunks[i] = m;
      prev = m;
    }
    return { ref, labels, chunks };
  }
}

/** Index of `v` in values sorted in UTF-8 byte order, or -1. */
function binarySearch(a: readonly string[], v: string): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareUtf8(a[mid]!, v);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
