export {
  type EventFilter,
  EventFilterError,
  matchesEvent,
  parseEventFilter,
  type TextFilter,
} from './event-filter.js';
export {
  BucketEventQuerier,
  type BucketEventQuerierOptions,
  compareEvents,
  type EventCursor,
  type EventPage,
  type EventQuerier,
  type EventQuery,
  type EventTail,
} from './event-querier.js';
export { LogEventTail, type LogEventTailOptions } from './log-tail.js';
