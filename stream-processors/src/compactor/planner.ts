/**
 * What the compactor does next in one tenant's catalog, as pure functions of
 * the catalog: which blocks to compact (Thanos' planner: overlapping blocks
 * first, then adjacent blocks filling a level's range), which to downsample,
 * which retention has expired. No store access, no clock (`now` is passed).
 */
import { type BlockMeta, type CatalogBlock, resolutionOf } from '@promstream/storage';

const H = 3600 * 1000;

/** Thanos' default compaction levels: 2h blocks into 8h, 2d and 14d. */
export const DEFAULT_LEVELS: readonly number[] = [2 * H, 8 * H, 48 * H, 14 * 24 * H];

/** Thanos' thresholds: a raw block spanning 40h is downsampled to 5m, a 5m block spanning 10d to 1h. */
export const DEFAULT_DOWNSAMPLE_RANGES = { to5m: 40 * H, to1h: 10 * 24 * H } as const;

/** The resolutions, ms. */
export const RES_RAW = 0;
export const RES_5M = 5 * 60 * 1000;
export const RES_1H = H;

/**
 * The group a block compacts with: the same resolution and external labels
 * (the tenant is the catalog's). Thanos' group key, `<resolution>@<labels hash>`,
 * here spelled out so it reads in logs.
 */
export function groupKey(meta: BlockMeta): string {
  const labels = meta.thanos?.labels ?? {};
  const ls = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
  return `${resolutionOf(meta)}@{${ls}}`;
}

/** Blocks of a catalog in compaction groups, each by minTime then ULID; deletion-marked blocks left out. */
export function compactionGroups(blocks: readonly CatalogBlock[]): Map<string, CatalogBlock[]> {
  const groups = new Map<string, CatalogBlock[]>();
  for (const b of blocks) {
    if (b.deletionMark !== undefined) continue;
    const k = groupKey(b.meta);
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(b);
  }
  for (const g of groups.values()) {
    g.sort((a, b) => a.meta.minTime - b.meta.minTime || (a.meta.ulid < b.meta.ulid ? -1 : 1));
  }
  return groups;
}

/** The first run of blocks overlapping in time (more than one), or none (Prometheus' selectOverlappingDirs). */
function overlapping(blocks: readonly CatalogBlock[]): CatalogBlock[] {
  let run: CatalogBlock[] = [];
  let maxt = Number.NEGATIVE_INFINITY;
  for (const b of blocks) {
    if (run.length > 0 && b.meta.minTime < maxt) {
      run.push(b);
      maxt = Math.max(maxt, b.meta.maxTime);
      continue;
    }
    if (run.length > 1) return run;
    run = [b];
    maxt = b.meta.maxTime;
  }
  return run.length > 1 ? run : [];
}

/** Blocks split into runs that fit one aligned range of size `tr` (Prometheus' splitByRange). */
function splitByRange(blocks: readonly CatalogBlock[], tr: number): CatalogBlock[][] {
  const out: CatalogBlock[][] = [];
  let i = 0;
  while (i < blocks.length) {
    const m = blocks[i]!.meta;
    const t0 = m.minTime >= 0 ? tr * Math.trunc(m.minTime / tr) : tr * Math.trunc((m.minTime - tr + 1) / tr);
    // A block larger than the range, or misaligned across it, is not grouped at this level.
    if (m.maxTime > t0 + tr) {
      i++;
      continue;
    }
    const group: CatalogBlock[] = [];
    for (; i < blocks.length && blocks[i]!.meta.maxTime <= t0 + tr; i++) group.push(blocks[i]!);
    if (group.length > 0) out.push(group);
  }
  return out;
}

/**
 * The next blocks to compact in one group, or none. As Thanos' planner:
 * blocks overlapping in time first (vertical compaction); else, leaving out
 * the newest block (still settling), the first range of a level (from the
 * second level up) whose blocks fill it or end before the newest block, with
 * more than one block. Blocks marked no-compact never join a plan and split
 * the runs around them, so no output overlaps them.
 */
export function planCompaction(group: readonly CatalogBlock[], levels: readonly number[]): BlockMeta[] {
  const usable = group.filter((b) => b.noCompactMark === undefined);
  const over = overlapping(usable);
  if (over.length > 0) return over.map((b) => b.meta);
  if (levels.length < 2 || group.length < 2) return [];
  const newest = group[group.length - 1]!;
  const candidates = newest.noCompactMark === undefined ? group.slice(0, -1) : [...group];
  if (candidates.length === 0) return [];
  const highTime = candidates[candidates.length - 1]!.meta.minTime;
  for (const tr of levels.slice(1)) {
    for (const part of splitByRange(candidates, tr)) {
      const mint = part[0]!.meta.minTime;
      const maxt = part[part.length - 1]!.meta.maxTime;
      if (!(maxt - mint === tr || maxt <= highTime)) continue;
      // Runs between no-compact blocks.
      let run: CatalogBlock[] = [];
      for (const b of [...part, undefined]) {
        if (b !== undefined && b.noCompactMark === undefined) {
          run.push(b);
          continue;
        }
        if (run.length > 1) return run.map((x) => x.meta);
        run = [];
      }
    }
  }
  return [];
}

/** A block to downsample and the resolution to write. */
export interface DownsamplePlan {
  meta: BlockMeta;
  resolution: number;
}

/**
 * Blocks to downsample, as Thanos' compactor picks them: a raw block spanning
 * at least `to5m` whose sources are not all in 5m blocks yet, a 5m block
 * spanning at least `to1h` whose sources are not all in 1h blocks; blocks
 * marked no-downsample or for deletion are left out.
 */
export function planDownsampling(
  blocks: readonly CatalogBlock[],
  ranges: { to5m: number; to1h: number } = DEFAULT_DOWNSAMPLE_RANGES,
): DownsamplePlan[] {
  const done = new Map<number, Set<string>>([
    [RES_5M, new Set()],
    [RES_1H, new Set()],
  ]);
  for (const b of blocks) {
    const set = done.get(b.resolution);
    if (set === undefined) continue;
    for (const id of sourcesOf(b.meta)) set.add(id);
  }
  const out: DownsamplePlan[] = [];
  for (const b of blocks) {
    if (b.deletionMark !== undefined || b.noDownsampleMark !== undefined) continue;
    const target = b.resolution === RES_RAW ? RES_5M : b.resolution === RES_5M ? RES_1H : undefined;
    if (target === undefined) continue;
    const min = target === RES_5M ? ranges.to5m : ranges.to1h;
    if (b.meta.maxTime - b.meta.minTime < min) continue;
    const have = done.get(target)!;
    if (sourcesOf(b.meta).every((id) => have.has(id))) continue;
    out.push({ meta: b.meta, resolution: target });
  }
  return out;
}

function sourcesOf(meta: BlockMeta): string[] {
  return meta.compaction.sources.length > 0 ? meta.compaction.sources : [meta.ulid];
}

/** Retention per resolution, ms; 0 keeps forever (Thanos' --retention.resolution-*). */
export interface Retention {
  raw: number;
  '5m': number;
  '1h': number;
}

/**
 * Blocks whose data has passed the retention of their resolution: the block's
 * maxTime (whole seconds, as Thanos reads it) plus the retention is before `now`.
 */
export function planRetention(
  blocks: readonly CatalogBlock[],
  retention: Retention,
  now: number,
): BlockMeta[] {
  const out: BlockMeta[] = [];
  for (const b of blocks) {
    if (b.deletionMark !== undefined) continue;
    const keep =
      b.resolution === RES_RAW
        ? retention.raw
        : b.resolution === RES_5M
          ? retention['5m']
          : b.resolution === RES_1H
            ? retention['1h']
            : 0;
    if (keep <= 0) continue;
    const maxTime = Math.trunc(b.meta.maxTime / 1000) * 1000;
    if (now > maxTime + keep) out.push(b.meta);
  }
  return out;
}
