/**
 * Constants of the Prometheus TSDB index, format 2. The byte layout is in
 * storage/docs/block-format.md.
 */

/** First four bytes of an index file. */
export const INDEX_MAGIC = 0xbaaad700;
/** The only index format written and read. */
export const INDEX_VERSION = 2;
/** Bytes of the table of contents at the end: six uint64 offsets and a CRC32C. */
export const TOC_LEN = 6 * 8 + 4;
/** Series entries start on multiples of 16 bytes; a series ref is offset / 16. */
export const SERIES_ALIGN = 16;
/** Label indices and postings lists start on multiples of 4 bytes. */
export const LIST_ALIGN = 4;

/** Offsets of the index sections, from the table of contents. */
export interface IndexToc {
  symbols: number;
  series: number;
  labelIndices: number;
  labelIndicesTable: number;
  postings: number;
  postingsTable: number;
}

/** A chunk as the index lists it: its time range and where its bytes are. */
export interface ChunkMeta {
  minTime: number;
  /** Inclusive. */
  maxTime: number;
  /** (segment file sequence, counting from 0) * 2^32 + byte offset in the file. */
  ref: number;
}
