import {
  decodeEventState,
  type EventPartitionState,
  encodeEventState,
  eventStateKey,
  StorageError,
  StorageErrorCode,
} from '@promstream/storage';
import { StreamError } from '../errors.js';
import type { EventStateStore } from './seams.js';

/** The two calls of an object store the state needs (a `@promstream/storage` ObjectStore fits). */
export interface EventStateObjects {
  get(key: string): Promise<Uint8Array>;
  put(key: string, body: Uint8Array): Promise<void>;
}

/**
 * Partition states as small JSON objects in the bucket (storage's format,
 * `storage/src/events/store-state.ts`), their failures as this package's
 * codes: a read that failed is retried, a state that does not parse stops
 * the partition.
 */
export class ObjectEventStateStore implements EventStateStore {
  constructor(private readonly objects: EventStateObjects) {}

  async load(topic: string, partition: number): Promise<EventPartitionState | undefined> {
    const key = eventStateKey(topic, partition);
    let bytes: Uint8Array;
    try {
      bytes = await this.objects.get(key);
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
      throw new StreamError('STATE_READ', `read event-store state ${key}`, { cause: err });
    }
    try {
      return decodeEventState(key, bytes);
    } catch (err) {
      throw new StreamError('STATE_FORMAT', `parse event-store state ${key}`, { cause: err });
    }
  }

  async save(topic: string, partition: number, state: EventPartitionState): Promise<void> {
    const key = eventStateKey(topic, partition);
    try {
      await this.objects.put(key, encodeEventState(state));
    } catch (err) {
      throw new StreamError('UPLOAD', `save event-store state ${key}`, { cause: err });
    }
  }
}
