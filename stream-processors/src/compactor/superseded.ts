/**
 * Blocks another block supersedes: at the same resolution, every source of
 * the block is a source of the other, which holds more sources (or the same
 * ones under a smaller ULID). They are what a compaction cut between its
 * upload and its deletion marks leaves, and what Thanos' deduplicate filter
 * drops. Pure; the compactor marks them for deletion.
 */
import type { BlockMeta, CatalogBlock } from '@promstream/storage';

function sourcesOf(meta: BlockMeta): string[] {
  return meta.compaction.sources.length > 0 ? meta.compaction.sources : [meta.ulid];
}

/** The unmarked blocks whose data another unmarked block holds. */
export function supersededBlocks(blocks: readonly CatalogBlock[]): BlockMeta[] {
  const live = blocks.filter((b) => b.deletionMark === undefined);
  // Who holds each source, at each resolution.
  const holders = new Map<string, CatalogBlock[]>();
  for (const b of live) {
    for (const id of sourcesOf(b.meta)) {
      const k = `${b.resolution}/${id}`;
      let list = holders.get(k);
      if (list === undefined) holders.set(k, (list = []));
      list.push(b);
    }
  }
  const out: BlockMeta[] = [];
  for (const b of live) {
    const mine = sourcesOf(b.meta);
    const candidates = holders.get(`${b.resolution}/${mine[0]}`) ?? [];
    const wins = candidates.some((o) => {
      if (o === b) return false;
      const theirs = new Set(sourcesOf(o.meta));
      if (!mine.every((id) => theirs.has(id))) return false;
      return theirs.size > mine.length || o.meta.ulid < b.meta.ulid;
    });
    if (wins) out.push(b.meta);
  }
  return out;
}
