import { encodeXorChunk, type ObjectStore, writeBlock } from '@promstream/storage';
import type { CutBlock } from '../block-builder/partition-head.js';
import type { BlockProvenance, BlockSink } from '../block-builder/seams.js';
import { StreamError } from '../errors.js';

/** Samples per XOR chunk, as Prometheus' head cuts them. */
export const SAMPLES_PER_CHUNK = 120;

/**
 * Writes cut blocks to an object store as Prometheus TSDB blocks under
 * `<tenant>/<ULID>/`, with the range aligned to the block duration and the
 * log slice in meta.json's `promstream` section. The encoding is
 * deterministic, so writing a block again puts the same bytes at the same keys.
 */
export class ObjectStoreBlockSink implements BlockSink {
  constructor(private readonly store: ObjectStore) {}

  async write(ulid: string, block: CutBlock, provenance: BlockProvenance): Promise<void> {
    const series = block.series.map((s) => {
      const chunks = [];
      for (let i = 0; i < s.t.length; i += SAMPLES_PER_CHUNK) {
        const t = s.t.subarray(i, i + SAMPLES_PER_CHUNK);
        const v = s.v.subarray(i, i + SAMPLES_PER_CHUNK);
        chunks.push({ minTime: t[0]!, maxTime: t[t.length - 1]!, bytes: encodeXorChunk(t, v) });
      }
      return { labels: s.labels, chunks };
    });
    try {
      await writeBlock(this.store, block.tenant, series, {
        ulid,
        minTime: block.rangeStart,
        maxTime: block.rangeEnd,
        thanos: { labels: {}, downsample: { resolution: 0 }, source: 'promstream-block-builder' },
        promstream: {
          partition: provenance.partition,
          minOffset: provenance.firstOffset,
          maxOffset: provenance.lastOffset,
          tenant: block.tenant,
          topic: provenance.topic,
        },
      });
    } catch (err) {
      throw new StreamError('UPLOAD', `write block ${block.tenant}/${ulid}`, { cause: err });
    }
  }
}
