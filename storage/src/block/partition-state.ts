/**
 * The block builder's partition state: one small JSON object per partition
 * of the samples topic beside the blocks (`_promstream/block-builder/<topic>/<partition>.json`,
 * specified in stream-processors/src/block-builder/FORMAT.md). The builder
 * writes it after a cut's blocks are uploaded and before it commits; the
 * builder after a restart and the query head read it to know how far blocks
 * cover the partition. Storage owns the format, as it owns every object in
 * the bucket: one encoder and one reader, with the version check, for all.
 */
import { StorageError, StorageErrorCode } from '../errors.js';
import type { ObjectStore } from '../objstore/object-store.js';
import type { PlacementRules } from './placement.js';

/** A backfill range cut through an offset at or after the state's nextOffset. */
export interface BackfillCut {
  tenant: string;
  start: number;
  through: number;
}

/** What the state of one partition says. */
export interface PartitionState {
  /** Live samples before this time (ms) are in blocks; -Infinity when no block is yet. */
  boundary: number;
  /** The offset the builder committed with this state. */
  nextOffset: number;
  /** Records up to this offset had their dead letters written (absent in version 1: nextOffset - 1). */
  handledThrough?: number;
  /** The partition clock before the record at nextOffset (absent in version 1: unknown). */
  clock?: number;
  /** Backfill ranges cut through an offset at or after nextOffset (a restart reads those records again). */
  backfillCuts?: BackfillCut[];
  /** The placement rules the builder ran with; the query head applies the same. */
  rules?: PlacementRules;
}

/** Where a partition's state lives in the bucket. */
export function partitionStateKey(topic: string, partition: number): string {
  return `_promstream/block-builder/${topic}/${partition}.json`;
}

/** The state as written: version 2, JSON with nulls where JSON has no -Infinity. */
export function encodePartitionState(topic: string, partition: number, state: PartitionState): Uint8Array {
  const doc = {
    version: 2,
    topic,
    partition,
    boundary: Number.isFinite(state.boundary) ? state.boundary : null,
    nextOffset: state.nextOffset,
    handledThrough: state.handledThrough ?? state.nextOffset - 1,
    clock: state.clock !== undefined && Number.isFinite(state.clock) ? state.clock : null,
    backfillCuts: state.backfillCuts ?? [],
    ...(state.rules === undefined ? {} : { rules: state.rules }),
  };
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

const corrupt = (key: string, what: string, cause?: unknown) =>
  new StorageError(StorageErrorCode.Corrupt, `partition state ${key}: ${what}`, { cause });

/** Reads a state of version 1 or 2; a Corrupt StorageError for anything else. */
export function decodePartitionState(key: string, bytes: Uint8Array): PartitionState {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw corrupt(key, 'not JSON', err);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  if ((d.version !== 1 && d.version !== 2) || typeof d.nextOffset !== 'number')
    throw corrupt(key, 'not a version 1 or 2 state');
  const state: PartitionState = {
    boundary: typeof d.boundary === 'number' ? d.boundary : Number.NEGATIVE_INFINITY,
    nextOffset: d.nextOffset,
  };
  if (typeof d.handledThrough === 'number') state.handledThrough = d.handledThrough;
  if (typeof d.clock === 'number') state.clock = d.clock;
  if (Array.isArray(d.backfillCuts)) {
    state.backfillCuts = [];
    for (const c of d.backfillCuts as Record<string, unknown>[]) {
      if (typeof c?.tenant !== 'string' || typeof c.start !== 'number' || typeof c.through !== 'number')
        throw corrupt(key, 'a backfill cut is not {tenant, start, through}');
      state.backfillCuts.push({ tenant: c.tenant, start: c.start, through: c.through });
    }
  }
  const r = d.rules as Record<string, unknown> | undefined;
  if (
    typeof r?.blockDuration === 'number' &&
    typeof r.outOfOrderWindow === 'number' &&
    typeof r.futureGrace === 'number' &&
    typeof r.backfillIdle === 'number'
  )
    state.rules = {
      blockDuration: r.blockDuration,
      outOfOrderWindow: r.outOfOrderWindow,
      futureGrace: r.futureGrace,
      backfillIdle: r.backfillIdle,
    };
  return state;
}

/** The state of a partition in `store`, or undefined when the builder has written none. */
export async function readPartitionState(
  store: Pick<ObjectStore, 'get'>,
  topic: string,
  partition: number,
): Promise<PartitionState | undefined> {
  const key = partitionStateKey(topic, partition);
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (err) {
    if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
    throw err;
  }
  return decodePartitionState(key, bytes);
}
