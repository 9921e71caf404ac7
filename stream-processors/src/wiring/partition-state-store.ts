import {
  decodePartitionState,
  encodePartitionState,
  partitionStateKey,
  StorageError,
  StorageErrorCode,
} from '@promstream/storage';
import type { PartitionState, PartitionStateStore } from '../block-builder/seams.js';
import { StreamError } from '../errors.js';

export { partitionStateKey };

/** The two calls of an object store the state needs (a `@promstream/storage` ObjectStore fits). */
export interface StateObjects {
  get(key: string): Promise<Uint8Array>;
  put(key: string, body: Uint8Array): Promise<void>;
}

/**
 * Partition states as small JSON objects beside the blocks, so whoever reads
 * the bucket (the builder after a restart, the query head) knows how far
 * blocks cover each partition. The format is storage's
 * (`storage/src/block/partition-state.ts`); this store gives its failures the
 * builder's codes: a read that failed is retried, a state that does not
 * parse stops the partition. A missing object means nothing is covered.
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
    try {
      return decodePartitionState(key, bytes);
    } catch (err) {
      throw new StreamError('STATE_FORMAT', `parse partition state ${key}`, { cause: err });
    }
  }

  async save(topic: string, partition: number, state: PartitionState): Promise<void> {
    const key = partitionStateKey(topic, partition);
    try {
      await this.objects.put(key, encodePartitionState(topic, partition, state));
    } catch (err) {
      throw new StreamError('UPLOAD', `write partition state ${key}`, { cause: err });
    }
  }
}
