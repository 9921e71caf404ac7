import { StorageError, StorageErrorCode } from '../errors.js';

/**
 * What the event store keeps per partition beside its segments, at
 * `_promstream/event-store/<topic>/<partition>.json` (under `_promstream/`,
 * which no tenant may take). `nextOffset` is the first offset no segment
 * holds: the query tier reads the log from there. `pending` is a cut being
 * uploaded (stream-processors/src/events/README.md, "Exactly once").
 */
export interface EventPartitionState {
  version: 1;
  nextOffset: number;
  pending?: { firstOffset: number; lastOffset: number; keys: string[] };
  /** Events counted per series of `promstream_events_total` on this partition. */
  counts?: Record<string, number>;
}

/** Where a partition's event-store state lives. */
export function eventStateKey(topic: string, partition: number): string {
  return `_promstream/event-store/${topic}/${partition}.json`;
}

/** Encodes a state as JSON. */
export function encodeEventState(state: EventPartitionState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state));
}

/** Decodes a state; throws `corrupt` for bytes that are not a version 1 state. */
export function decodeEventState(key: string, bytes: Uint8Array): EventPartitionState {
  let parsed: EventPartitionState;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as EventPartitionState;
  } catch (err) {
    throw new StorageError(StorageErrorCode.Corrupt, `event-store state ${key} is not JSON`, { cause: err });
  }
  if (parsed?.version !== 1 || !Number.isSafeInteger(parsed.nextOffset))
    throw new StorageError(StorageErrorCode.Corrupt, `event-store state ${key} is not a version 1 state`);
  return parsed;
}
