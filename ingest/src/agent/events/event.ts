/** Where an event came from, as the `Event` schema's `source` enum. */
export type EventSource = 'kernel' | 'os' | 'hardware' | 'app';
/** The `Event` schema's severity enum. */
export type EventSeverity = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical';

/** The value of one `promstream.events.v1` record, keyed by host. */
export interface AgentEvent {
  /** ms since the epoch. */
  time: number;
  host: string;
  source: EventSource;
  kind: string;
  severity: EventSeverity;
  message: string;
  attributes: Record<string, string>;
}
