import type { Labels, PartitionState } from '@promstream/storage';
import type { CutBlock } from './partition-head.js';

/**
 * The narrow seams the block builder runs against, so its loop can be tested
 * on real Kafka with any store, and the record format and block format stay
 * with the packages that own them.
 */

/** The samples of one series in one log record, decoded. */
export interface DecodedSeries {
  labels: Labels;
  t: ArrayLike<number>;
  v: ArrayLike<number>;
}

/** One `SampleBatch` record, its chunks decoded to samples. */
export interface DecodedBatch {
  tenant: string;
  series: DecodedSeries[];
  /** Native histogram samples the builder does not write yet. */
  skippedHistograms: number;
}

/** Turns a record value from the samples topic into samples. */
export interface RecordDecoder {
  decode(value: Buffer): Promise<DecodedBatch>;
}

/** What `meta.json`'s `promstream` section records about a block's origin. */
export interface BlockProvenance {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
}

/** Writes one block (index, chunks, meta.json) under `<tenant>/<ulid>/`. */
export interface BlockSink {
  write(ulid: string, block: CutBlock, provenance: BlockProvenance): Promise<void>;
}

/** What a partition's state says; the format is storage's (`storage/src/block/partition-state.ts`). */
export type { PartitionState } from '@promstream/storage';

/** Keeps each partition's state beside the blocks, so a restart knows what is covered. */
export interface PartitionStateStore {
  load(topic: string, partition: number): Promise<PartitionState | undefined>;
  save(topic: string, partition: number, state: PartitionState): Promise<void>;
}

/**
 * The moments where a crash can break exactly-once (README, "Fault points"):
 * - `after-upload`: a block is in the store, the partition state not yet saved;
 * - `after-state`: the state is saved, the offsets not yet committed;
 * - `mid-block`: some files of a block are in the store, its meta.json is not;
 * - `mid-multipart`: a part of a multipart upload is stored, the upload not completed;
 * - `rebalance`: the group is rebalancing while this builder holds partitions;
 * - `after-deadletter`: a batch's dead letters are written, its state and offsets are not.
 */
export const FAULT_POINTS = [
  'after-upload',
  'after-state',
  'mid-block',
  'mid-multipart',
  'rebalance',
  'after-deadletter',
] as const;

/** One of FAULT_POINTS. */
export type FaultPoint = (typeof FAULT_POINTS)[number];

/**
 * Told each time the builder passes a fault point. Crash tests arm one that
 * ends the process there; in production there is none.
 */
export interface FaultPoints {
  reached(point: FaultPoint, detail: Record<string, unknown>): void;
}
