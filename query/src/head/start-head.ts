import { createSerdes, sampleBatchReader, TOPICS } from '@promstream/schemas';
import { type ObjectStore, type PlacementRules, readPartitionState } from '@promstream/storage';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BlockWatermarks, HeadRecordDecoder } from './log-head.js';
import { LogHead } from './log-head.js';
import type { BlockWatermark } from './partition-tail.js';

/** Options of a head over a real log and bucket. */
export interface StartHeadOptions {
  brokers: string[];
  registryUrl: string;
  /** The bucket the block builder writes to (its partition states are read from it). */
  store: ObjectStore;
  topic?: string;
  logger: Logger;
  registry?: Registry;
  refreshMs?: number;
  /** The block builder's placement rules, used until its state names them. */
  rules?: PlacementRules;
  /** How long samples stay after blocks hold them (LogHeadOptions.holdMs). */
  holdMs?: number;
}

/** Decodes `promstream.samples.v1` records (Confluent wire format, XOR chunks) for the head. */
export function headDecoder(registryUrl: string, topic: string = TOPICS.samples): HeadRecordDecoder {
  const serdes = createSerdes({ registryUrl, autoRegister: false });
  const read = sampleBatchReader((value) => serdes.sampleBatch.deserialize(topic, value));
  return { decode: read };
}

/**
 * Reads the block builder's partition states from the bucket
 * (`_promstream/block-builder/<topic>/<partition>.json`, specified in
 * stream-processors/src/block-builder/FORMAT.md).
 */
export function bucketWatermarks(store: ObjectStore): BlockWatermarks {
  return {
    async load(topic, partition) {
      const state = await readPartitionState(store, topic, partition);
      if (state === undefined) return undefined;
      const mark: BlockWatermark = { boundary: state.boundary, nextOffset: state.nextOffset };
      // Version 2 states also carry the clock, the backfill cuts and the placement rules.
      if (state.clock !== undefined) mark.clock = state.clock;
      if (state.backfillCuts !== undefined) mark.backfillCuts = state.backfillCuts;
      if (state.rules !== undefined) mark.rules = state.rules;
      return mark;
    },
  };
}

/** Starts a log-tail head on the samples topic, from where the bucket's blocks end. */
export async function startLogHead(options: StartHeadOptions): Promise<LogHead> {
  const topic = options.topic ?? TOPICS.samples;
  const head = new LogHead({
    brokers: options.brokers,
    topic,
    decoder: headDecoder(options.registryUrl, topic),
    watermarks: bucketWatermarks(options.store),
    logger: options.logger,
    registry: options.registry,
    refreshMs: options.refreshMs,
    rules: options.rules,
    holdMs: options.holdMs,
  });
  await head.start();
  return head;
}
