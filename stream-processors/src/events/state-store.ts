import { StorageError, StorageErrorCode } from '@promstream/storage';
import { StreamError } from '../errors.js';
import type { EventPartitionState, EventStateStore } from './seams.js';

/** The two calls of an object store the state needs (a `@promstream/storage` ObjectStore fits). */
export interface EventStateObjects {
  get(key: string): Promise<Uint8Array>;
  put(key: string, body: Uint8Array): Promise<void>;
}

/** Where a partition's state lives: under `_promstream/`, which no tenant may take. */
export function eventStateKey(topic: string, partition: number): string {
  return `_promstream/event-store/${topic}/${partition}.json`;
}

/** Partition states as small JSON objects in the bucket. */
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
    let parsed: EventPartitionState;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes)) as EventPartitionState;
    } catch (err) {
      throw new StreamError('STATE_FORMAT', `parse event-store state ${key}`, { cause: err });
    }
    if (parsed.version !== 1 || !Number.isSafeInteger(parsed.nextOffset))
      throw new StreamError('STATE_FORMAT', `event-store state ${key} is not version 1`);
    return parsed;
  }

  async save(topic: string, partition: number, state: EventPartitionState): Promise<void> {
    const key = eventStateKey(topic, partition);
    try {
      await this.objects.put(key, new TextEncoder().encode(JSON.stringify(state)));
    } catch (err) {
      throw new StreamError('UPLOAD', `save event-store state ${key}`, { cause: err });
    }
  }
}
