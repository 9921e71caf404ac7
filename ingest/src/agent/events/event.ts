import type { Event, EventSource, Severity } from '@promstream/schemas';

/** Where an event came from: the `Event` schema's `source` enum. */
export type { EventSource };
/** The `Event` schema's severity enum. */
export type EventSeverity = Severity;

/** The value of one `promstream.events.v1` record, keyed by host: the schema's `Event`. */
export type AgentEvent = Event;
