import { StreamError } from '../errors.js';

/**
 * The partial record: what stage 1 of a rollup writes to the partials topic
 * and stage 2 reads (format in README.md, "Partial records"). UTF-8 JSON,
 * one record per (source partition, boundary step, partials partition).
 */

/** One group's share: [group key, tenant, labels as name,value,..., encoded GroupState]. */
export type PartialGroup = [string, string, string[], unknown[]];

/** The groups of one closed window: [rule index, window start ms, groups sorted by key]. */
export type PartialWindow = [number, number, PartialGroup[]];

/** A partial record's value. */
export interface PartialValue {
  /** The samples partition it comes from. */
  src: number;
  /** Every window of `src` that ends at or before this time (ms) is closed. */
  through: number;
  windows: PartialWindow[];
}

/** The partials partition a group goes to: FNV-1a 32 of its key, modulo the partition count. */
export function partialPartition(groupKey: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < groupKey.length; i++) {
    h ^= groupKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/** The record value of a partial. */
export function encodePartial(p: PartialValue): Buffer {
  return Buffer.from(JSON.stringify(p));
}

/** Reads a partial record; one that is not one is a BAD_RECORD. */
export function decodePartial(value: Buffer | null): PartialValue {
  try {
    const p = JSON.parse(value?.toString() ?? '') as PartialValue;
    if (!Number.isInteger(p.src) || typeof p.through !== 'number' || !Array.isArray(p.windows))
      throw new Error('missing src, through or windows');
    return p;
  } catch (err) {
    throw new StreamError('BAD_RECORD', `decode a rollup partial record: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
