/**
 * meta.json of a block: Prometheus' block meta, Thanos' section, and
 * promstream's section with the log range the block was built from.
 */
import { corrupt, StorageError, StorageErrorCode, type StorageErrorContext } from '../errors.js';
import { isUlid } from './ulid.js';

/** Thanos' part of meta.json (Thanos' `metadata.Thanos`). */
export interface ThanosMeta {
  /** Version of the section; absent or 1 (the only one Thanos knows). */
  version?: number;
  /** External labels of the block (tenant, replica, ...); Thanos may write null, read as {}. */
  labels: Record<string, string>;
  /** Resolution in milliseconds: 0 raw, 300000 (5m), 3600000 (1h); see `Resolution`. */
  downsample: { resolution: number };
  /** Which component wrote the block (Thanos uses sidecar, compactor, receive, ...). */
  source: string;
  /** Segment files and their sizes, as Thanos lists them. */
  segment_files?: string[];
  files?: { rel_path: string; size_bytes?: number }[];
}

/** One slice of the log: the offsets [minOffset, maxOffset] of one partition. */
export interface OffsetRange {
  /** Topic, when not promstream.samples.v1. */
  topic?: string;
  partition: number;
  /** First offset included. */
  minOffset: number;
  /** Last offset included. */
  maxOffset: number;
}

/**
 * promstream's part of meta.json: the slices of the log the block holds. A
 * block built from the log has one slice (`partition`, `minOffset`,
 * `maxOffset`); a block made of other blocks (compaction) lists every
 * source block's slice in `ranges`. Read both through `offsetRanges`.
 */
export interface PromstreamMeta {
  /** Kafka partition of promstream.samples.v1 the block was built from. */
  partition?: number;
  /** First offset included. */
  minOffset?: number;
  /** Last offset included. */
  maxOffset?: number;
  /** The slices of all source blocks, by topic, partition and first offset. */
  ranges?: OffsetRange[];
  /** Tenant of the block, when the bucket holds many. */
  tenant?: string;
  /** Topic of `partition`, when not promstream.samples.v1. */
  topic?: string;
}

/** The log slices a block holds, from either form of its promstream section; [] without one. */
export function offsetRanges(meta: BlockMeta): OffsetRange[] {
  const p = meta.promstream;
  if (p === undefined) return [];
  if (p.ranges !== undefined) return p.ranges;
  if (p.partition === undefined || p.minOffset === undefined || p.maxOffset === undefined) return [];
  const r: OffsetRange = { partition: p.partition, minOffset: p.minOffset, maxOffset: p.maxOffset };
  if (p.topic !== undefined) r.topic = p.topic;
  return [r];
}

/** A block's meta.json. */
export interface BlockMeta {
  ulid: string;
  /** First sample time, inclusive (ms). */
  minTime: number;
  /** Last sample time plus one, exclusive (ms), as Prometheus writes it. */
  maxTime: number;
  stats: { numSamples: number; numSeries: number; numChunks: number; numTombstones?: number };
  compaction: {
    level: number;
    sources: string[];
    parents?: { ulid: string; minTime: number; maxTime: number }[];
    deletable?: boolean;
    failed?: boolean;
  };
  version: 1;
  thanos?: ThanosMeta;
  promstream?: PromstreamMeta;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks meta.json; throws `corrupt` naming the block and the field. */
export function parseMeta(bytes: Uint8Array, ctx: StorageErrorContext): BlockMeta {
  const where = { ...ctx, section: 'meta.json' };
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw corrupt('parse block meta: not JSON', where, e);
  }
  const bad = (field: string): never => {
    throw corrupt(`parse block meta: field ${field} is missing or malformed`, where);
  };
  if (!isObject(v)) return bad('(root)');
  if (typeof v.ulid !== 'string' || !isUlid(v.ulid)) bad('ulid');
  if (!isInt(v.minTime)) bad('minTime');
  if (!isInt(v.maxTime) || (v.maxTime as number) < (v.minTime as number)) bad('maxTime');
  if (v.version !== 1) bad('version');
  const stats = v.stats;
  if (!isObject(stats)) return bad('stats');
  for (const k of ['numSamples', 'numSeries', 'numChunks']) {
    if (stats[k] !== undefined && !isInt(stats[k])) bad(`stats.${k}`);
  }
  const compaction = v.compaction;
  if (!isObject(compaction) || !isInt(compaction.level)) return bad('compaction.level');
  // Prometheus omits an empty source list.
  compaction.sources ??= [];
  if (!Array.isArray(compaction.sources) || !compaction.sources.every((s) => typeof s === 'string')) {
    bad('compaction.sources');
  }
  if (v.thanos !== undefined) checkThanos(v.thanos, bad, where);
  if (v.promstream !== undefined) checkPromstream(v.promstream, bad);
  const meta = v as unknown as BlockMeta;
  meta.stats.numSamples ??= 0;
  meta.stats.numSeries ??= 0;
  meta.stats.numChunks ??= 0;
  return meta;
}

/** Checks the thanos section as Thanos reads it, filling what Thanos fills. */
function checkThanos(t: unknown, bad: (field: string) => never, where: StorageErrorContext): void {
  if (!isObject(t)) {
    bad('thanos');
    return;
  }
  if (t.version !== undefined && t.version !== 0 && t.version !== 1) {
    if (!isInt(t.version)) bad('thanos.version');
    throw new StorageError(
      StorageErrorCode.Unsupported,
      `parse block meta: thanos section version ${t.version} is not 1`,
      where,
    );
  }
  // Thanos writes a nil map as null and reads a missing or null one as empty.
  t.labels ??= {};
  if (!isObject(t.labels) || !Object.values(t.labels).every((x) => typeof x === 'string')) {
    bad('thanos.labels');
  }
  t.downsample ??= { resolution: 0 };
  if (!isObject(t.downsample)) {
    bad('thanos.downsample');
    return;
  }
  t.downsample.resolution ??= 0;
  if (!isInt(t.downsample.resolution) || t.downsample.resolution < 0) bad('thanos.downsample.resolution');
  t.source ??= '';
  if (typeof t.source !== 'string') bad('thanos.source');
}

function isRange(r: unknown): boolean {
  return (
    isObject(r) &&
    isInt(r.partition) &&
    isInt(r.minOffset) &&
    isInt(r.maxOffset) &&
    (r.topic === undefined || typeof r.topic === 'string')
  );
}

/** The promstream section holds one log slice, or a list of them, or both. */
function checkPromstream(p: unknown, bad: (field: string) => never): void {
  if (!isObject(p)) {
    bad('promstream');
    return;
  }
  const single = p.partition !== undefined || p.minOffset !== undefined || p.maxOffset !== undefined;
  if (single && !isRange(p)) bad('promstream');
  if (p.ranges !== undefined && (!Array.isArray(p.ranges) || !p.ranges.every(isRange)))
    bad('promstream.ranges');
  if (!single && p.ranges === undefined) bad('promstream');
}

/**
 * meta.json bytes with a fixed key order (Prometheus' order, then thanos and
 * promstream) and tab indentation as Prometheus writes it, so equal metas
 * give equal bytes.
 */
export function encodeMeta(meta: BlockMeta): Uint8Array {
  const ordered: Record<string, unknown> = {
    ulid: meta.ulid,
    minTime: meta.minTime,
    maxTime: meta.maxTime,
    stats: {
      numSamples: meta.stats.numSamples,
      numSeries: meta.stats.numSeries,
      numChunks: meta.stats.numChunks,
      ...(meta.stats.numTombstones !== undefined ? { numTombstones: meta.stats.numTombstones } : {}),
    },
    compaction: {
      level: meta.compaction.level,
      sources: meta.compaction.sources,
      ...(meta.compaction.parents !== undefined ? { parents: meta.compaction.parents } : {}),
    },
    version: 1,
  };
  if (meta.thanos !== undefined) {
    const t = meta.thanos;
    ordered.thanos = {
      ...(t.version ? { version: t.version } : {}),
      labels: sortObject(t.labels),
      downsample: { resolution: t.downsample.resolution },
      source: t.source,
      ...(t.segment_files !== undefined ? { segment_files: t.segment_files } : {}),
      ...(t.files !== undefined ? { files: t.files } : {}),
    };
  }
  if (meta.promstream !== undefined) {
    const p = meta.promstream;
    ordered.promstream = {
      partition: p.partition,
      minOffset: p.minOffset,
      maxOffset: p.maxOffset,
      ...(p.ranges !== undefined
        ? {
            ranges: p.ranges.map((r) => ({
              ...(r.topic !== undefined ? { topic: r.topic } : {}),
              partition: r.partition,
              minOffset: r.minOffset,
              maxOffset: r.maxOffset,
            })),
          }
        : {}),
      ...(p.tenant !== undefined ? { tenant: p.tenant } : {}),
      ...(p.topic !== undefined ? { topic: p.topic } : {}),
    };
  }
  return new TextEncoder().encode(JSON.stringify(ordered, null, '\t'));
}

function sortObject(o: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}
