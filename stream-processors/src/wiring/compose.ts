import { createSerdes, TOPICS } from '@promstream/schemas';
import { type ObjectStore, objectStoreFromUrl, type S3Settings } from '@promstream/storage';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type BlockBuilder, startBlockBuilder } from '../block-builder/builder.js';
import type { FaultPoints, RecordDecoder } from '../block-builder/seams.js';
import type { DeadLetterEvents } from '../deadletter/kafka-sink.js';
import { type ReplayOptions, type ReplayResult, replay } from '../replay/replay.js';
import type { RetryPolicy } from '../retry.js';
import type { RollupRule } from '../rollup/config.js';
import { dropInputDecoder } from '../rollup/drop-input.js';
import { ObjectStoreBlockSink } from './block-sink.js';
import { FaultReportingStore } from './fault-store.js';
import { ObjectPartitionStateStore } from './partition-state-store.js';
import { sampleBatchDecoder } from './sample-batch-decoder.js';

/** What the block builder and replay roles are given. */
export interface DataPathOptions {
  brokers: string[];
  /** Schema registry URL. */
  registryUrl: string;
  /** Object store URL (file://, mem://, s3://). */
  storeUrl: string;
  /** S3 endpoint, region and credentials for an s3:// URL that does not name them. */
  s3?: S3Settings;
  /** Samples topic (default promstream.samples.v1). */
  topic?: string;
  blockDuration: number;
  outOfOrderWindow: number;
  /** How far past its record's timestamp a sample may be, ms (default 10 minutes). */
  futureGrace?: number;
  /** Log time a backfill range stays open after its last sample, ms. */
  backfillIdle?: number;
  logger: Logger;
  /** Dead-letter topic (default promstream.deadletter.v1). */
  deadLetterTopic?: string;
  /** Events topic dead letters are reported on (default promstream.events.v1). */
  eventsTopic?: string;
  /** Told at each fault point of the builder and its uploads, for crash tests. */
  faults?: FaultPoints;
  /** Rollup rules: the series of those with `keep_input: false` are not written to blocks. */
  rollupRules?: readonly RollupRule[];
}

/** The record decoder of the samples topic against a registry. */
export function samplesDecoder(registryUrl: string, topic: string = TOPICS.samples): RecordDecoder {
  const serdes = createSerdes({ registryUrl, autoRegister: false });
  return sampleBatchDecoder((value) => serdes.sampleBatch.deserialize(topic, value));
}

/** The pieces the builder and replay share over one bucket. */
export function dataPath(options: DataPathOptions): {
  store: ObjectStore;
  topic: string;
  decoder: RecordDecoder;
  sink: ObjectStoreBlockSink;
  state: ObjectPartitionStateStore;
} {
  const topic = options.topic ?? TOPICS.samples;
  const faults = options.faults;
  const store = objectStoreFromUrl(options.storeUrl, options.s3, {
    onPartUploaded:
      faults === undefined ? undefined : (key, part) => faults.reached('mid-multipart', { key, part }),
  });
  return {
    store,
    topic,
    decoder: dropInputDecoder(samplesDecoder(options.registryUrl, topic), options.rollupRules ?? []),
    sink: new ObjectStoreBlockSink(faults === undefined ? store : new FaultReportingStore(store, faults)),
    state: new ObjectPartitionStateStore(store),
  };
}

/** Reports dead letters as Events on the events topic, registering the Event schema when needed. */
export function deadLetterEvents(registryUrl: string, topic: string = TOPICS.events): DeadLetterEvents {
  const serdes = createSerdes({ registryUrl });
  return { topic, serialize: (event) => serdes.event.serialize(topic, event) };
}

/** Starts the block builder role against real Kafka, the registry and a bucket. */
export async function runBlockBuilder(
  options: DataPathOptions & {
    groupId: string;
    registry?: Registry;
    onCrash?: (err: Error) => void;
    retry?: RetryPolicy;
    /** Consumer-group session timeout, ms (default 15 s). */
    sessionTimeout?: number;
  },
): Promise<BlockBuilder> {
  const parts = dataPath(options);
  return startBlockBuilder({
    deadLetterTopic: options.deadLetterTopic,
    deadLetterEvents: deadLetterEvents(options.registryUrl, options.eventsTopic),
    retry: options.retry,
    brokers: options.brokers,
    topic: parts.topic,
    groupId: options.groupId,
    blockDuration: options.blockDuration,
    outOfOrderWindow: options.outOfOrderWindow,
    futureGrace: options.futureGrace,
    backfillIdle: options.backfillIdle,
    decoder: parts.decoder,
    sink: parts.sink,
    state: parts.state,
    logger: options.logger,
    registry: options.registry,
    onCrash: options.onCrash,
    sessionTimeout: options.sessionTimeout,
    faults: options.faults,
  });
}

/** Runs a replay into a bucket. */
export async function runReplay(
  options: DataPathOptions & Pick<ReplayOptions, 'from' | 'to' | 'partitions' | 'onProgress'>,
): Promise<ReplayResult> {
  const parts = dataPath(options);
  return replay({
    brokers: options.brokers,
    topic: parts.topic,
    from: options.from,
    to: options.to,
    partitions: options.partitions,
    blockDuration: options.blockDuration,
    outOfOrderWindow: options.outOfOrderWindow,
    futureGrace: options.futureGrace,
    backfillIdle: options.backfillIdle,
    decoder: parts.decoder,
    sink: parts.sink,
    state: parts.state,
    logger: options.logger,
    onProgress: options.onProgress,
  });
}
