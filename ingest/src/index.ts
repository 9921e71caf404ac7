/** The ingest package: the remote-write gateway, the node agent and the log producer. */

export type { LogProducer, LogRecord } from '@promstream/log';
export { type Agent, type AgentOptions, startAgent } from './agent/agent.js';
export { type Collector, hostCollectors, type MetricFamily } from './agent/collectors/index.js';
export type { AgentEvent } from './agent/events/event.js';
export type { PluginSpec } from './agent/plugins.js';
export type { ScrapeTarget } from './agent/scrape/scraper.js';
export { IngestError, IngestErrorCode, isIngestError } from './errors.js';
export type { RateLimit } from './gateway/rate-limiter.js';
export { type Gateway, type GatewayOptions, startGateway } from './gateway/server.js';
export { sampleBatchCodec } from './log/codec.js';
export { type EventSink, LogEventSink } from './log/event-sink.js';
export {
  LogSampleSink,
  type SampleBatchCodec,
  type SampleBatchSink,
  type SinkResult,
} from './log/sample-sink.js';
export { createLogWriters, type LogWriters, type LogWritersOptions } from './log/writers.js';
export type { WriteRequest, WriteSeries } from './remote-write/types.js';
export { decodeV1, encodeV1 } from './remote-write/v1.js';
export { decodeV2, encodeV2 } from './remote-write/v2.js';
export { defaultLimits, type ValidationLimits } from './remote-write/validate.js';
export { defaultWindow, type SampleWindow } from './remote-write/window.js';
