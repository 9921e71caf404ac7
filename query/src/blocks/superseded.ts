import type { BlockMeta, CatalogBlock } from '@promstream/storage';

function sourcesOf(meta: BlockMeta): readonly string[] {
  return meta.compaction.sources.length > 0 ? meta.compaction.sources : [meta.ulid];
}

/**
 * The blocks a query reads: those no other block supersedes. A block is
 * superseded when another one at the same resolution lists every one of its
 * compaction sources and more (or the same ones under a smaller ULID, the
 * compactor's deterministic choice), as Thanos' deduplicate filter drops it.
 * Between a compacted or downsampled block's upload and the deletion marks
 * of its sources both are in the bucket; reading only the newer one counts
 * each sample once. Order is kept.
 */
export function withoutSuperseded(blocks: readonly CatalogBlock[]): CatalogBlock[] {
  // Who holds each source, at each resolution.
  const holders = new Map<string, CatalogBlock[]>();
  for (const b of blocks) {
    for (const id of sourcesOf(b.meta)) {
      const key = `${b.resolution}/${id}`;
      let list = holders.get(key);
      if (list === undefined) holders.set(key, (list = []));
      list.push(b);
    }
  }
  return blocks.filter((b) => {
    const mine = sourcesOf(b.meta);
    const candidates = holders.get(`${b.resolution}/${mine[0]}`) ?? [];
    return !candidates.some((other) => {
      if (other === b) return false;
      const theirs = new Set(sourcesOf(other.meta));
      if (!mine.every((id) => theirs.has(id))) return false;
      return theirs.size > mine.length || other.meta.ulid < b.meta.ulid;
    });
  });
}
