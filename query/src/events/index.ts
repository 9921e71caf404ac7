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
export {
  type EventBatchHandler,
  type EventStreamSource,
  type EventSubscription,
  formatPosition,
  LogEventStream,
  type LogEventStreamOptions,
  parsePosition,
  type StreamPosition,
} from './event-stream.js';
export { LogEventTail, type LogEventTailOptions } from './log-tail.js';
