/**
 * Block-level compaction and downsampling, reading sources from and writing
 * the result to an object store. Output names are derived from the sources
 * (never from a clock or a random source), so a compaction redone after a
 * crash writes the same block under the same name.
 */

import { type BlockMeta, type OffsetRange, offsetRanges, type ThanosMeta } from '../block/meta.js';
import { BlockReader } from '../block/reader.js';
import { deterministicUlid, ulidTime } from '../block/ulid.js';
import { Downsampler } from '../downsample/downsample.js';
import { corrupt, StorageError, StorageErrorCode } from '../errors.js';
import type { ObjectStore } from '../objstore/object-store.js';
import { blockSeries } from './block-series.js';
import { mergeSeries } from './merge.js';
import { StreamingBlockWriter } from './stream-writer.js';

/** What Thanos writes as the source of compactor output. */
export const COMPACTOR_SOURCE = 'compactor';

/** What a compaction or downsampling reports. */
export interface CompactResult {
  meta: BlockMeta;
  /** Samples read from the sources (their meta stats). */
  samplesIn: number;
  /** Samples dropped as duplicates of another source's sample at the same time. */
  duplicates: number;
}

/** Options of compactBlocks. */
export interface CompactOptions {
  /** Range chunks of merged overlapping series are cut at (default 2h, as Prometheus' head). */
  chunkRange?: number;
  /** Segment file cut size. */
  segmentSize?: number;
}

function keyOf(dir: string, ulid: string): string {
  return dir === '' ? ulid : `${dir.replace(/\/+$/, '')}/${ulid}`;
}

/** The ULID a compaction of these sources writes: the earliest time, seeded by the sorted source ULIDs. */
export function compactedUlid(sources: readonly BlockMeta[]): string {
  const ids = sources.map((s) => s.ulid).sort();
  const minTime = Math.min(...sources.map((s) => s.minTime));
  return deterministicUlid(Math.max(0, minTime), `compact:${ids.join(',')}`);
}

/** The ULID downsampling a block to `res` writes. */
export function downsampledUlid(source: BlockMeta, res: number): string {
  return deterministicUlid(ulidTime(source.ulid), `downsample:${source.ulid}:${res}`);
}

function unionRanges(sources: readonly BlockMeta[]): OffsetRange[] {
  const seen = new Map<string, OffsetRange>();
  for (const s of sources) {
    for (const r of offsetRanges(s))
      seen.set(`${r.topic ?? ''}\u0000${r.partition}\u0000${r.minOffset}\u0000${r.maxOffset}`, r);
  }
  return [...seen.values()].sort(
    (a, b) =>
      (a.topic ?? '').localeCompare(b.topic ?? '') ||
      a.partition - b.partition ||
      a.minOffset - b.minOffset ||
      a.maxOffset - b.maxOffset,
  );
}

function thanosOf(meta: BlockMeta, resolution: number): ThanosMeta {
  return {
    labels: { ...(meta.thanos?.labels ?? {}) },
    downsample: { resolution },
    source: COMPACTOR_SOURCE,
  };
}

/**
 * Compacts blocks of one tenant, one external-label set and one resolution
 * into one block under `dir`; sources may overlap in time. Returns the new
 * block's meta, uploaded last.
 */
export async function compactBlocks(
  store: ObjectStore,
  dir: string,
  sources: readonly BlockMeta[],
  options: CompactOptions = {},
): Promise<CompactResult> {
  if (sources.length < 2) {
    throw new StorageError(StorageErrorCode.InvalidArgument, 'compact: fewer than two source blocks');
  }
  const resolution = sources[0]!.thanos?.downsample.resolution ?? 0;
  const readers = await Promise.all(sources.map((m) => BlockReader.open(store, keyOf(dir, m.ulid), m)));
  const ulid = compactedUlid(sources);
  const writer = new StreamingBlockWriter(store, dir, ulid, options.segmentSize);
  let duplicates = 0;
  for await (const s of mergeSeries(
    readers.map((r) => blockSeries(r)),
    options.chunkRange ?? 2 * 3600 * 1000,
  )) {
    duplicates += s.duplicates;
    await writer.addSeries(s.labels, s.chunks);
  }
  const ids = new Set<string>();
  for (const s of sources)
    for (const id of s.compaction.sources.length > 0 ? s.compaction.sources : [s.ulid]) ids.add(id);
  const ranges = unionRanges(sources);
  const tenant = sources[0]!.promstream?.tenant;
  const meta = await writer.finish({
    minTime: Math.min(...sources.map((s) => s.minTime)),
    maxTime: Math.max(...sources.map((s) => s.maxTime)),
    compaction: {
      level: Math.max(...sources.map((s) => s.compaction.level)) + 1,
      sources: [...ids].sort(),
      parents: [...sources]
        .sort((a, b) => a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : 1))
        .map((s) => ({ ulid: s.ulid, minTime: s.minTime, maxTime: s.maxTime })),
    },
    thanos: thanosOf(sources[0]!, resolution),
    ...(ranges.length > 0 || tenant !== undefined
      ? { promstream: { ranges, ...(tenant !== undefined ? { tenant } : {}) } }
      : {}),
  });
  const samplesIn = sources.reduce((a, s) => a + s.stats.numSamples, 0);
  return { meta, samplesIn, duplicates };
}

/**
 * Downsamples one block to `resolution` (5m from raw, 1h from 5m) as Thanos
 * does, into a block under `dir` with the source's time range, compaction
 * and labels and `thanos.downsample.resolution` set.
 */
export async function downsampleBlock(
  store: ObjectStore,
  dir: string,
  source: BlockMeta,
  resolution: number,
  options: { segmentSize?: number } = {},
): Promise<CompactResult> {
  const inRes = source.thanos?.downsample.resolution ?? 0;
  if (inRes >= resolution) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `downsample: target resolution ${resolution} is not coarser than the block's ${inRes}`,
    );
  }
  const reader = await BlockReader.open(store, keyOf(dir, source.ulid), source);
  const writer = new StreamingBlockWriter(
    store,
    dir,
    downsampledUlid(source, resolution),
    options.segmentSize,
  );
  const ds = new Downsampler();
  for await (const s of blockSeries(reader)) {
    for (let i = 1; i < s.chunks.length; i++) {
      if (s.chunks[i - 1]!.maxTime >= s.chunks[i]!.minTime) {
        throw corrupt('downsample: a series has overlapping chunks', { block: reader.dir, section: 'index' });
      }
    }
    const out = inRes === 0 ? ds.raw(s.chunks, resolution) : ds.aggregated(s.chunks, inRes, resolution);
    await writer.addSeries(s.labels, out);
  }
  const meta = await writer.finish({
    minTime: source.minTime,
    maxTime: source.maxTime,
    compaction: { ...source.compaction },
    thanos: thanosOf(source, resolution),
    ...(source.promstream !== undefined ? { promstream: source.promstream } : {}),
  });
  return { meta, samplesIn: source.stats.numSamples, duplicates: 0 };
}
