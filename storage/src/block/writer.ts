/**
 * Writes a block in the Prometheus TSDB layout to an object store:
 * `<dir>/chunks/000001...`, `<dir>/index`, then `<dir>/meta.json` last, so a
 * block whose meta.json exists is complete.
 */

import { crc32c } from '../checksum/crc32c.js';
import { StorageError, StorageErrorCode } from '../errors.js';
import type { Labels } from '../model.js';
import type { ObjectStore } from '../objstore/object-store.js';
import { AGGR_ENCODING, AggrChunkView } from '../tsz/aggr.js';
import { XOR_ENCODING } from '../tsz/xor.js';
import {
  DEFAULT_SEGMENT_SIZE,
  SEGMENT_HEADER_LEN,
  SegmentWriter,
  segmentChunkSize,
  segmentName,
} from './chunks.js';
import type { ChunkMeta } from './index-format.js';
import { type IndexSeries, writeIndex } from './index-writer.js';
import { compareLabels } from './labels.js';
import { type BlockMeta, encodeMeta, type PromstreamMeta, type ThanosMeta } from './meta.js';
import { deterministicUlid } from './ulid.js';

/** One chunk to write: its inclusive time range and chunk bytes (an XOR chunk with its header, or an AggrChunk). */
export interface ChunkInput {
  readonly minTime: number;
  readonly maxTime: number;
  readonly bytes: Uint8Array;
  /** Chunk encoding byte; XOR (1) by default. */
  readonly encoding?: number;
  /** CRC32C of the encoding byte and bytes, when known (a chunk read from a block); computed otherwise. */
  readonly crc?: number;
}

/** One series to write; series may come in any order, chunks in time order. */
export interface SeriesInput {
  readonly labels: Labels;
  readonly chunks: readonly ChunkInput[];
}

/** Options of writeBlock. */
export interface WriteBlockOptions {
  /** The block's ULID; by default derived from minTime and the content, so equal input gives an equal name. */
  ulid?: string;
  /** Block time range; by default the chunks' range (maxTime exclusive). */
  minTime?: number;
  maxTime?: number;
  compaction?: { level: number; sources?: string[] };
  thanos?: ThanosMeta;
  promstream?: PromstreamMeta;
  /** Segment file cut size (default 512 MiB, as Prometheus). */
  segmentSize?: number;
}

/** The files of a block, ready to upload. */
export interface EncodedBlock {
  meta: BlockMeta;
  /** Relative path ("index", "chunks/000001", "meta.json") to bytes, in upload order. */
  files: [string, Uint8Array][];
}

/** Samples a chunk counts: its XOR header, or an AggrChunk's windows (as Thanos counts them). */
function chunkSamples(c: ChunkInput): number {
  const enc = c.encoding ?? XOR_ENCODING;
  if (enc === AGGR_ENCODING) return new AggrChunkView(c.bytes).numSamples();
  if (enc !== XOR_ENCODING || c.bytes.length < 2) return 0;
  return (c.bytes[0]! << 8) | c.bytes[1]!;
}

/** Encodes a block in memory; same input, same bytes. */
export function encodeBlock(series: Iterable<SeriesInput>, options: WriteBlockOptions = {}): EncodedBlock {
  const sorted = [...series].sort((a, b) => compareLabels(a.labels, b.labels));
  for (let i = 1; i < sorted.length; i++) {
    if (compareLabels(sorted[i - 1]!.labels, sorted[i]!.labels) === 0) {
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        'write block: two series have the same labels',
      );
    }
  }
  // The bytes every chunk will take: the segment is then written into one array, joined never.
  let size = SEGMENT_HEADER_LEN;
  for (const s of sorted) for (const c of s.chunks) size += segmentChunkSize(c.bytes.length);
  const segments = new SegmentWriter(options.segmentSize ?? DEFAULT_SEGMENT_SIZE, size);
  const indexSeries: IndexSeries[] = [];
  let numSamples = 0;
  let numChunks = 0;
  let minTime = Number.POSITIVE_INFINITY;
  let maxTime = Number.NEGATIVE_INFINITY;
  for (const s of sorted) {
    if (s.chunks.length === 0) continue;
    const metas: ChunkMeta[] = [];
    for (const c of s.chunks) {
      const ref = segments.add(c.bytes, c.encoding ?? XOR_ENCODING, c.crc);
      metas.push({ minTime: c.minTime, maxTime: c.maxTime, ref });
      numSamples += chunkSamples(c);
      numChunks++;
      if (c.minTime < minTime) minTime = c.minTime;
      if (c.maxTime > maxTime) maxTime = c.maxTime;
    }
    indexSeries.push({ labels: s.labels, chunks: metas });
  }
  if (indexSeries.length === 0) {
    minTime = options.minTime ?? 0;
    maxTime = (options.maxTime ?? 1) - 1;
  }
  const index = writeIndex(indexSeries);
  const chunkFiles = segments.finish();
  const blockMin = options.minTime ?? minTime;
  const blockMax = options.maxTime ?? maxTime + 1;
  if (blockMin > minTime || blockMax <= maxTime) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      'write block: chunks fall outside the given time range',
    );
  }
  let ulid = options.ulid;
  if (ulid === undefined) {
    let seed = crc32c(index);
    for (const f of chunkFiles) seed = crc32c(f, seed);
    ulid = deterministicUlid(
      Math.max(0, blockMin),
      `${seed}:${index.length}:${JSON.stringify(options.promstream ?? {})}`,
    );
  }
  const meta: BlockMeta = {
    ulid,
    minTime: blockMin,
    maxTime: blockMax,
    stats: { numSamples, numSeries: indexSeries.length, numChunks },
    compaction: { level: options.compaction?.level ?? 1, sources: options.compaction?.sources ?? [ulid] },
    version: 1,
  };
  if (options.thanos !== undefined) meta.thanos = options.thanos;
  if (options.promstream !== undefined) meta.promstream = options.promstream;
  const files: [string, Uint8Array][] = chunkFiles.map((f, i) => [segmentName(i), f]);
  files.push(['index', index]);
  files.push(['meta.json', encodeMeta(meta)]);
  return { meta, files };
}

/**
 * Writes a block under `dir` (a key prefix such as "tenant-a", or "" for the
 * root) as `<dir>/<ULID>/...` and returns its meta. meta.json goes last.
 */
export async function writeBlock(
  store: ObjectStore,
  dir: string,
  series: Iterable<SeriesInput>,
  options: WriteBlockOptions = {},
): Promise<BlockMeta> {
  const block = encodeBlock(series, options);
  const base = dir === '' ? block.meta.ulid : `${dir.replace(/\/+$/, '')}/${block.meta.ulid}`;
  for (const [name, bytes] of block.files) await store.put(`${base}/${name}`, bytes);
  return block.meta;
}
