/**
 * Writes a TSDB index (format 2) for series given in label order, laid out as
 * Prometheus' index writer does: symbols, series, label indices, postings,
 * label offset table, postings offset table, table of contents.
 */

import { crc32c } from '../checksum/crc32c.js';
import { StorageError, StorageErrorCode } from '../errors.js';
import type { Labels } from '../model.js';
import { compareUtf8, Encbuf } from './encoding.js';
import {
  type ChunkMeta,
  INDEX_MAGIC,
  INDEX_VERSION,
  type IndexToc,
  LIST_ALIGN,
  SERIES_ALIGN,
} from './index-format.js';
import { compareLabels } from './labels.js';

/** One series for the index: labels and chunk metas ordered by time. */
export interface IndexSeries {
  readonly labels: Labels;
  readonly chunks: readonly ChunkMeta[];
}

/** Writes a section as `len <4b> | content | CRC32C(content) <4b>`. */
function section(out: Encbuf, content: Encbuf): void {
  const c = content.get();
  out.putBE32(c.length);
  out.putBytes(c);
  out.putBE32(crc32c(c));
}

/**
 * The symbol table of series sorted by labels (an error if they are not):
 * every label name and value, and the empty string as Prometheus writes,
 * sorted, with each symbol's ref.
 */
function symbolTable(series: readonly IndexSeries[]): { symbols: string[]; symbolRef: Map<string, number> } {
  for (let i = 1; i < series.length; i++) {
    if (compareLabels(series[i - 1]!.labels, series[i]!.labels) >= 0) {
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        'write index: series are not sorted and unique',
      );
    }
  }
  const symbolSet = new Set<string>(['']);
  for (const s of series) {
    for (const l of s.labels) {
      symbolSet.add(l.name);
      symbolSet.add(l.value);
    }
  }
  const symbols = [...symbolSet].sort(compareUtf8);
  const symbolRef = new Map<string, number>();
  symbols.forEach((s, i) => {
    symbolRef.set(s, i);
  });
  return { symbols, symbolRef };
}

/** A series entry's chunk metas: the first absolute, the rest as deltas from the one before. */
function putChunkMetas(tmp: Encbuf, chunks: readonly ChunkMeta[]): void {
  tmp.putUvarint(chunks.length);
  let prev: ChunkMeta | undefined;
  for (const c of chunks) {
    if (c.maxTime < c.minTime || (prev !== undefined && (c.minTime < prev.maxTime || c.ref <= prev.ref))) {
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        'write index: chunks of a series overlap or are out of order',
      );
    }
    if (prev === undefined) {
      tmp.putVarint(c.minTime);
      tmp.putUvarint(c.maxTime - c.minTime);
      tmp.putUvarint(c.ref);
    } else {
      tmp.putUvarint(c.minTime - prev.maxTime);
      tmp.putUvarint(c.maxTime - c.minTime);
      tmp.putVarint(c.ref - prev.ref);
    }
    prev = c;
  }
}

/**
 * The index bytes for series sorted by labels (an error if they are not).
 * Same input, same bytes.
 */
export function writeIndex(series: readonly IndexSeries[]): Uint8Array {
  const { symbols, symbolRef } = symbolTable(series);

  const out = new Encbuf();
  const tmp = new Encbuf();
  const toc: IndexToc = {
    symbols: 0,
    series: 0,
    labelIndices: 0,
    labelIndicesTable: 0,
    postings: 0,
    postingsTable: 0,
  };
  out.putBE32(INDEX_MAGIC);
  out.putByte(INDEX_VERSION);

  toc.symbols = out.len;
  tmp.putBE32(symbols.length);
  for (const s of symbols) tmp.putUvarintStr(s);
  section(out, tmp);

  // Series, and the postings of each label pair as we go (refs ascend).
  toc.series = out.len;
  const all: number[] = [];
  const postings = new Map<string, Map<string, number[]>>();
  for (const s of series) {
    out.pad(SERIES_ALIGN);
    const ref = out.len / SERIES_ALIGN;
    if (ref > 0xffffffff) {
      throw new StorageError(StorageErrorCode.InvalidArgument, 'write index: series section above 64 GiB');
    }
    all.push(ref);
    tmp.reset();
    tmp.putUvarint(s.labels.length);
    for (const l of s.labels) {
      tmp.putUvarint(symbolRef.get(l.name)!);
      tmp.putUvarint(symbolRef.get(l.value)!);
      let byValue = postings.get(l.name);
      if (byValue === undefined) postings.set(l.name, (byValue = new Map()));
      let refs = byValue.get(l.value);
      if (refs === undefined) byValue.set(l.value, (refs = []));
      refs.push(ref);
    }
    putChunkMetas(tmp, s.chunks);
    const entry = tmp.get();
    out.putUvarint(entry.length);
    out.putBytes(entry);
    out.putBE32(crc32c(entry));
  }

  const names = [...postings.keys()].sort(compareUtf8);
  const sortedValues = new Map<string, string[]>();
  for (const n of names) sortedValues.set(n, [...postings.get(n)!.keys()].sort(compareUtf8));

  // Label indices: per name, the symbol refs of its values.
  toc.labelIndices = out.len;
  const labelIndexOffsets: number[] = [];
  for (const n of names) {
    out.pad(LIST_ALIGN);
    labelIndexOffsets.push(out.len);
    const values = sortedValues.get(n)!;
    tmp.reset();
    tmp.putBE32(1);
    tmp.putBE32(values.length);
    for (const v of values) tmp.putBE32(symbolRef.get(v)!);
    section(out, tmp);
  }

  // Postings: the list of all series under ("", ""), then each label pair.
  toc.postings = out.len;
  const postingOffsets: { name: string; value: string; offset: number }[] = [];
  const writePostings = (name: string, value: string, refs: readonly number[]): void => {
    out.pad(LIST_ALIGN);
    postingOffsets.push({ name, value, offset: out.len });
    tmp.reset();
    tmp.putBE32(refs.length);
    for (const r of refs) tmp.putBE32(r);
    section(out, tmp);
  };
  writePostings('', '', all);
  for (const n of names) {
    const byValue = postings.get(n)!;
    for (const v of sortedValues.get(n)!) writePostings(n, v, byValue.get(v)!);
  }

  toc.labelIndicesTable = out.len;
  tmp.reset();
  tmp.putBE32(names.length);
  names.forEach((n, i) => {
    tmp.putUvarint(1);
    tmp.putUvarintStr(n);
    tmp.putUvarint(labelIndexOffsets[i]!);
  });
  section(out, tmp);

  toc.postingsTable = out.len;
  tmp.reset();
  tmp.putBE32(postingOffsets.length);
  for (const p of postingOffsets) {
    tmp.putUvarint(2);
    tmp.putUvarintStr(p.name);
    tmp.putUvarintStr(p.value);
    tmp.putUvarint(p.offset);
  }
  section(out, tmp);

  putToc(out, tmp, toc);
  return out.get().slice();
}

/** The table of contents at the end: six 64-bit section offsets, then their CRC32C. */
function putToc(out: Encbuf, tmp: Encbuf, toc: IndexToc): void {
  tmp.reset();
  for (const v of [
    toc.symbols,
    toc.series,
    toc.labelIndices,
    toc.labelIndicesTable,
    toc.postings,
    toc.postingsTable,
  ]) {
    tmp.putBE64(v);
  }
  out.putBytes(tmp.get());
  out.putBE32(crc32c(tmp.get()));
}
