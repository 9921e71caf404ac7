import type { StoredEvent } from '@promstream/storage';

/**
 * `promstream_events_total{tenant, host, source, kind, severity}`: how many
 * events the store has written, per series. A host's events stay on one
 * partition (the topic is keyed by host), so each series is counted by one
 * partition, and its total lives in that partition's state: a restart goes
 * on counting where the last cut left off.
 */
export const EVENTS_TOTAL = 'promstream_events_total';

/** A series of the counter, as its label values joined by NUL (none of them can hold one usefully). */
export type CountKey = string;

/** The series key of an event. */
export function countKey(e: Pick<StoredEvent, 'tenant' | 'host' | 'source' | 'kind' | 'severity'>): CountKey {
  return [e.tenant, e.host, e.source, e.kind, e.severity].join('\u0000');
}

/** The labels of a series key, sorted by name, `__name__` first. */
export function countLabels(key: CountKey): { name: string; value: string }[] {
  const [tenant, host, source, kind, severity] = key.split('\u0000');
  return [
    { name: '__name__', value: EVENTS_TOTAL },
    { name: 'host', value: host ?? '' },
    { name: 'kind', value: kind ?? '' },
    { name: 'severity', value: severity ?? '' },
    { name: 'source', value: source ?? '' },
    { name: 'tenant', value: tenant ?? '' },
  ];
}

/** Where the counters go after each cut (`promstream.derived.v1` in production). */
export interface DerivedCounterSink {
  /** Writes the new totals of the series a cut touched, stamped `time` (ms). */
  write(totals: ReadonlyMap<CountKey, number>, time: number): Promise<void>;
}
