export { eventDecoder } from './decoder.js';
export { type CountKey, countKey, countLabels, type DerivedCounterSink, EVENTS_TOTAL } from './derived.js';
export { LogDerivedCounterSink } from './derived-sink.js';
export { type EventStore, type EventStoreOptions, startEventStore } from './event-store.js';
export { applyEventRetention } from './retention.js';
export { type RunEventStoreOptions, runEventStore } from './run.js';
export {
  EVENT_FAULT_POINTS,
  type EventDecoder,
  type EventFaultPoint,
  type EventFaultPoints,
  type EventPartitionState,
  type EventStateStore,
} from './seams.js';
export { ObjectEventStateStore } from './state-store.js';
export { EVENT_STORE } from './store-loop.js';
