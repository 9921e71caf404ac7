export { Broker, type BrokerConfig } from './broker.js';
export { type KafkajsCodec, lz4Codec, snappyCodec, zstdCodec } from './codecs.js';
export { BROKER_ERROR_CODES, BrokerError, type BrokerErrorCode, KafkaCode } from './errors.js';
export type { DurabilityProbe } from './log/durability-probe.js';
export { type BrokerOptions, type RunningBroker, startBroker } from './server.js';
