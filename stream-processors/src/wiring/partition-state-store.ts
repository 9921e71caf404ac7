import { StorageError, StorageErrorCode } from '@promstream/storage';
import type { PartitionState, PartitionStateStore } from '../block-builder/seams.js';
import { StreamError } from '../errors.js';

/** The two calls of an object store the state needs (a `@promstream/storage` ObjectStore fits). */
export interface StateObjects {
  get(key: string): Promise<Uint8Array>;
  put(key: string, body: Uint8Array): Promise<void>;
}

/** Where a partition's state lives in the bucket (see block-builder/FORMAT.md). */
export function partitionStateKey(topic: string, partition: number): string {
  return `_promstream/block-builder/${topic}/${partition}.json`;
}

/**
 * Partition states as small JSON objects beside the blocks, so whoever reads
 * the bucket (the builder after a restart, the query head) knows how far
 * blocks cover each partition. A missing object means nothing is covered.
 */
export class ObjectPartitionStateStore implements PartitionStateStore {
  constructor(private readonly objects: StateObjects) {}

  async load(topic: string, partition: number): Promise<PartitionState | undefined> {
    const key = partitionStateKey(topic, partition);
    let bytes: Uint8Array;
    try {
      bytes = await this.objects.get(key);
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
      throw new StreamError('STATE_READ', `read partition state ${key}`, { cause: err });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (err) {
      throw new StreamError('STATE_FORMAT', `parse partition state ${key}`, { cause: err });
    }
    const d = doc as Record<string, unknown>;
    if ((d.version !== 1 && d.version !== 2) || typeof d.nextOffset !== 'number')
      throw new StreamError('STATE_FORMAT', `partition state ${key}: not a version 1 or 2 state`);
    // JSON has no -Infinity: null means no block yet.
    const boundary = typeof d.boundary === 'number' ? d.boundary : Number.NEGATIVE_INFINITY;
    const state: PartitionState = { boundary, nextOffset: d.nextOffset };
    if (typeof d.handledThrough === 'number') state.handledThrough = d.handledThrough;
    if (typeof d.clock === 'number') state.clock = d.clock;
    if (Array.isArray(d.backfillCuts)) {
      state.backfillCuts = [];
      for (const c of d.backfillCuts as Record<string, unknown>[]) {
        if (typeof c?.tenant !== 'string' || typeof c.start !== 'number' || typeof c.through !== 'number')
          throw new StreamError(
            'STATE_FORMAT',
            `partition state ${key}: a backfill cut is not {tenant, start, through}`,
          );
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

  async save(topic: string, partition: number, state: PartitionState): Promise<void> {
    const key = partitionStateKey(topic, partition);
    const doc = {
      version: 2,
      topic,
      partition,
      boundary: Number.isFinite(state.boundary) ? state.boundary : null,
      nextOffset: state.nextOffset,
      handledThrough: state.handledThrough ?? state.nextOffset - 1,
      // JSON has no -Infinity either: null means no record read yet.
      clock: state.clock !== undefined && Number.isFinite(state.clock) ? state.clock : null,
      backfillCuts: state.backfillCuts ?? [],
      ...(state.rules === undefined ? {} : { rules: state.rules }),
    };
    try {
      await this.objects.put(key, Buffer.from(`${JSON.stringify(doc, null, 2)}\n`));
    } catch (err) {
      throw new StreamError('UPLOAD', `write partition state ${key}`, { cause: err });
    }
  }
}
