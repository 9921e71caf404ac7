/**
 * Writes a block series by series, in label order, uploading each chunk
 * segment file as soon as it is cut (streamed in its 1 MiB pieces), so a
 * compaction holds one segment file
 * and the index entries (labels and chunk refs), never every chunk. meta.json
 * goes last, as with writeBlock: a block without it is partial.
 */

import { DEFAULT_SEGMENT_SIZE, SegmentWriter, segmentName } from '../block/chunks.js';
import type { ChunkMeta } from '../block/index-format.js';
import { type IndexSeries, writeIndex } from '../block/index-writer.js';
import { compareLabels } from '../block/labels.js';
import { type BlockMeta, encodeMeta } from '../block/meta.js';
import type { ChunkInput } from '../block/writer.js';
import { StorageError, StorageErrorCode } from '../errors.js';
import type { Labels } from '../model.js';
import { type ObjectStore, putStream } from '../objstore/object-store.js';
import { AGGR_ENCODING, AggrChunkView } from '../tsz/aggr.js';
import { XOR_ENCODING } from '../tsz/xor.js';

const TWO_32 = 4294967296;

/** What the writer puts in meta.json besides what it counts. */
export type StreamMetaBase = Omit<BlockMeta, 'stats' | 'ulid' | 'version'>;

/** A block being written to `<dir>/<ulid>/`. */
export class StreamingBlockWriter {
  private segments: SegmentWriter;
  private seq = 0;
  private readonly index: IndexSeries[] = [];
  private numSamples = 0;
  private numChunks = 0;
  private readonly view = new AggrChunkView();
  readonly base: string;

  constructor(
    private readonly store: ObjectStore,
    dir: string,
    readonly ulid: string,
    private readonly segmentSize = DEFAULT_SEGMENT_SIZE,
  ) {
    this.base = dir === '' ? ulid : `${dir.replace(/\/+$/, '')}/${ulid}`;
    this.segments = new SegmentWriter(segmentSize);
  }

  /** Adds one series; series must come in strictly ascending label order, chunks in time order. */
  async addSeries(labels: Labels, chunks: readonly ChunkInput[]): Promise<void> {
    if (chunks.length === 0) return;
    const prev = this.index[this.index.length - 1];
    if (prev !== undefined && compareLabels(prev.labels, labels) >= 0) {
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        'write block: series are not sorted and unique',
      );
    }
    const metas: ChunkMeta[] = [];
    for (const c of chunks) {
      const enc = c.encoding ?? XOR_ENCODING;
      if (this.segments.currentSize + 15 + c.bytes.length > this.segmentSize) await this.cutSegment();
      const ref = this.segments.add(c.bytes, enc, c.crc) + this.seq * TWO_32;
      metas.push({ minTime: c.minTime, maxTime: c.maxTime, ref });
      this.numChunks++;
      if (enc === AGGR_ENCODING) {
        this.view.reset(c.bytes);
        this.numSamples += this.view.numSamples();
      } else if (enc === XOR_ENCODING && c.bytes.length >= 2) {
        this.numSamples += (c.bytes[0]! << 8) | c.bytes[1]!;
      }
    }
    this.index.push({ labels, chunks: metas });
  }

  private async cutSegment(): Promise<void> {
    const files = this.segments.finishPieces();
    if (files.length === 0) return;
    // Streamed piece by piece: the segment is never joined into one array.
    await putStream(this.store, `${this.base}/${segmentName(this.seq)}`, pieces(files[0]!));
    this.seq++;
    this.segments = new SegmentWriter(this.segmentSize);
  }

  /** Uploads the last segment file, the index, then meta.json; returns the meta. */
  async finish(base: StreamMetaBase): Promise<BlockMeta> {
    await this.cutSegment();
    await this.store.put(`${this.base}/index`, writeIndex(this.index));
    const meta: BlockMeta = {
      ulid: this.ulid,
      minTime: base.minTime,
      maxTime: base.maxTime,
      stats: { numSamples: this.numSamples, numSeries: this.index.length, numChunks: this.numChunks },
      compaction: base.compaction,
      version: 1,
    };
    if (base.thanos !== undefined) meta.thanos = base.thanos;
    if (base.promstream !== undefined) meta.promstream = base.promstream;
    await this.store.put(`${this.base}/meta.json`, encodeMeta(meta));
    return meta;
  }
}

async function* pieces(list: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* list;
}
