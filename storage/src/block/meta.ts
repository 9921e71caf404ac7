/**
 * meta.json of a block: Prometheus' block meta, Thanos' section, and
 * promstream's section with the log range the block was built from.
 */
import { corrupt, type StorageErrorContext } from '../errors.js';
import { isUlid } from './ulid.js';

/** Thanos' part of meta.json. */
export interface ThanosMeta {
  /** External labels of the block (tenant, replica, ...). */
  labels: Record<string, string>;
  /** Resolution in milliseconds: 0 raw, 300000 (5m), 3600000 (1h). */
  downsample: { resolution: number };
  /** Which component wrote the block (Thanos uses sidecar, compactor, receive, ...). */
  source: string;
  /** Segment files and their sizes, as Thanos lists them. */
  segment_files?: string[];
  files?: { rel_path: string; size_bytes?: number }[];
}

/** promstream's part of meta.json: the slice of the log the block holds. */
export interface PromstreamMeta {
  /** Kafka partition of promstream.samples.v1 the block was built from. */
  partition: number;
  /** First offset included. */
  minOffset: number;
  /** Last offset included. */
  maxOffset: number;
  /** Tenant of the block, when the bucket holds many. */
  tenant?: string;
  /** Topic, when not promstream.samples.v1. */
  topic?: string;
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
  if (!Array.isArray(compaction.sources) || !compaction.sources.every((s) => typeof s === 'string')) {
    bad('compaction.sources');
  }
  if (v.thanos !== undefined) {
    const t = v.thanos;
    if (!isObject(t)) return bad('thanos');
    if (
      t.labels !== undefined &&
      (!isObject(t.labels) || !Object.values(t.labels).every((x) => typeof x === 'string'))
    ) {
      bad('thanos.labels');
    }
    if (t.downsample !== undefined && (!isObject(t.downsample) || !isInt(t.downsample.resolution))) {
      bad('thanos.downsample.resolution');
    }
  }
  if (v.promstream !== undefined) {
    const p = v.promstream;
    if (!isObject(p) || !isInt(p.partition) || !isInt(p.minOffset) || !isInt(p.maxOffset)) bad('promstream');
  }
  const meta = v as unknown as BlockMeta;
  meta.stats.numSamples ??= 0;
  meta.stats.numSeries ??= 0;
  meta.stats.numChunks ??= 0;
  return meta;
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
