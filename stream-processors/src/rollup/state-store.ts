import { StorageError, StorageErrorCode } from '@promstream/storage';
import { StreamError } from '../errors.js';
import type { StateObjects } from '../wiring/partition-state-store.js';
import type { RollupStage, RollupStateStore, StageSnapshot } from './seams.js';

/** Where a rollup stage keeps the snapshot of a partition in the bucket. */
export function rollupStateKey(name: string, stage: RollupStage, partition: number): string {
  return `_promstream/rollups/${name}/${stage}/${partition}.json`;
}

/**
 * Snapshots as JSON objects in an object store, under the rollup's name.
 * A missing object means the partition starts empty; a read that failed is
 * retried (STATE_READ); one that does not parse stops the partition
 * (STATE_FORMAT) rather than aggregate from a wrong state.
 */
export class ObjectRollupStateStore implements RollupStateStore {
  constructor(
    private readonly objects: StateObjects,
    private readonly name: string,
  ) {}

  async load(stage: RollupStage, partition: number): Promise<StageSnapshot | undefined> {
    const key = rollupStateKey(this.name, stage, partition);
    let bytes: Uint8Array;
    try {
      bytes = await this.objects.get(key);
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
      throw new StreamError('STATE_READ', `read rollup state ${key}`, { cause: err });
    }
    try {
      const s = JSON.parse(Buffer.from(bytes).toString()) as StageSnapshot;
      if (!Number.isInteger(s.next) || typeof s.rules !== 'string') throw new Error('missing next or rules');
      return s;
    } catch (err) {
      throw new StreamError('STATE_FORMAT', `parse rollup state ${key}`, { cause: err });
    }
  }

  async save(stage: RollupStage, partition: number, snapshot: StageSnapshot): Promise<void> {
    const key = rollupStateKey(this.name, stage, partition);
    try {
      await this.objects.put(key, Buffer.from(JSON.stringify(snapshot)));
    } catch (err) {
      throw new StreamError('UPLOAD', `write rollup state ${key}`, { cause: err });
    }
  }
}
