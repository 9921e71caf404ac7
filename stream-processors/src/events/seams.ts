import type { Event } from '@promstream/schemas';
import type { EventPartitionState } from '@promstream/storage';

/**
 * The narrow seams the event store runs against: the record format stays
 * with the schemas package, the bucket with storage, and a crash test can
 * stop the store between any two steps.
 */

/** Turns a record value from the events topic into an `Event`. */
export interface EventDecoder {
  decode(value: Buffer): Promise<Event>;
}

/** What the store keeps per partition; the format is storage's (`storage/src/events/store-state.ts`). */
export type { EventPartitionState } from '@promstream/storage';

/** Loads and saves each partition's state. */
export interface EventStateStore {
  load(topic: string, partition: number): Promise<EventPartitionState | undefined>;
  save(topic: string, partition: number, state: EventPartitionState): Promise<void>;
}

/**
 * The moments where a crash can break exactly-once:
 * - `after-intent`: the cut's keys are saved as pending, no file is uploaded;
 * - `mid-cut`: some files of a cut are uploaded, not all;
 * - `after-upload`: every file is uploaded, the state still says pending;
 * - `after-state`: the state is saved, the offset not yet committed.
 */
export const EVENT_FAULT_POINTS = ['after-intent', 'mid-cut', 'after-upload', 'after-state'] as const;

/** One of EVENT_FAULT_POINTS. */
export type EventFaultPoint = (typeof EVENT_FAULT_POINTS)[number];

/** Told each time the store passes a fault point; crash tests arm one, production has none. */
export interface EventFaultPoints {
  reached(point: EventFaultPoint, detail: Record<string, unknown>): void;
}
