import type { ConnectionOptions } from 'node:tls';
import kafkajs, { type Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { KafkaLogAdmin, type LogAdmin } from './admin.js';
import { registerZstdCodec } from './codecs.js';
import { KafkaLogConsumer, type LogConsumer, type LogConsumerOptions } from './consumer.js';
import { LogError, LogErrorCode } from './errors.js';
import { type ClientState, kafkaLogCreator } from './logging.js';
import { KafkaLogProducer, type LogProducer, type LogProducerOptions } from './producer.js';
import { type ReadRangesOptions, readRanges } from './read-ranges.js';

/** SASL credentials for a broker that asks for them (kafkajs' mechanisms). */
export type LogSasl =
  | { mechanism: 'plain'; username: string; password: string }
  | { mechanism: 'scram-sha-256'; username: string; password: string }
  | { mechanism: 'scram-sha-512'; username: string; password: string };

/** Options of a log client: where the log is and how to reach it. */
export interface LogClientOptions {
  /** host:port of one or more brokers. */
  brokers: string[];
  /** The client id brokers see (default `promstream`). */
  clientId?: string;
  /** Where kafkajs' own lines go (see logging.ts for their levels); none means they are dropped. */
  logger?: Logger;
  /** TLS to the brokers: true for the system's CAs, or node's TLS options. */
  ssl?: boolean | ConnectionOptions;
  sasl?: LogSasl;
  /** How long one request may take (default 10 s). */
  requestTimeoutMs?: number;
  /** How long connecting to a broker may take (default 3 s). */
  connectionTimeoutMs?: number;
  /** How often a failed request is tried again before the caller hears of it (default 5). */
  retries?: number;
}

/**
 * The one way to the log. Every role makes its producers, consumers and
 * admin through a client, so brokers, credentials, logging and codecs are
 * set in one place.
 */
export interface LogClient {
  /** A typed producer (idempotent, acks from all in-sync replicas, group commit). */
  producer(options?: LogProducerOptions): LogProducer;
  /** A consumer of one topic, in a group or over every partition. */
  consumer(options: LogConsumerOptions): LogConsumer;
  /** Topic creation, offsets and watermarks. */
  admin(): LogAdmin;
  /** Reads an offset range of each partition named, then stops (see read-ranges.ts). */
  readRanges(options: ReadRangesOptions): Promise<void>;
  /**
   * Closes everything made through this client. From the first call on,
   * a broker that stops answering is expected and logged at debug.
   */
  close(): Promise<void>;
}

/** What the producers, consumers and admins of one client share. */
export interface ClientParts {
  readonly kafka: Kafka;
  readonly state: ClientState;
  readonly logger: Logger | undefined;
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  /** Producers, consumers and admins not closed yet: the client closes them. */
  readonly open: Set<{ close(): Promise<void> }>;
}

/** Creates a log client; nothing connects until a producer, consumer or admin is used. */
export function createLogClient(options: LogClientOptions): LogClient {
  if (options.brokers.length === 0 || options.brokers.some((b) => b.trim() === ''))
    throw new LogError(LogErrorCode.BadOptions, 'a log client needs at least one broker (host:port)');
  registerZstdCodec();
  const state: ClientState = { closing: false };
  const timeout = options.requestTimeoutMs ?? 10_000;
  const clientId = options.clientId ?? 'promstream';
  const logger = options.logger;
  const kafka = new kafkajs.Kafka({
    clientId,
    brokers: options.brokers,
    ssl: options.ssl,
    sasl: options.sasl,
    connectionTimeout: options.connectionTimeoutMs ?? Math.min(timeout, 3000),
    requestTimeout: timeout,
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: Math.max(timeout, 5000) },
    // kafkajs builds its debug lines (with request payloads) only when asked for them.
    logLevel: logger?.isLevelEnabled('debug') ? kafkajs.logLevel.DEBUG : kafkajs.logLevel.WARN,
    logCreator: kafkaLogCreator(logger, state),
  });
  const parts: ClientParts = { kafka, state, logger, clientId, requestTimeoutMs: timeout, open: new Set() };
  return {
    producer: (o) => new KafkaLogProducer(parts, o ?? {}),
    consumer: (o) => new KafkaLogConsumer(parts, o),
    admin: () => new KafkaLogAdmin(parts),
    readRanges: (o) => readRanges(parts, o),
    async close() {
      state.closing = true;
      await Promise.allSettled([...parts.open].map((x) => x.close()));
    },
  };
}
