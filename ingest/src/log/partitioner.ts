import { FNV1A64_BASIS_LOW, fnv1a64LabelLowBits } from '@promstream/schemas';
import type { Label } from '@promstream/storage';

/** Places a series on a partition. */
export type PlaceSeries = (labels: readonly Label[]) => number;

/** The exact placement: the schemas package's `partitionFor`. */
export type PartitionFor = (labels: readonly Label[], partitions: number) => number;

/** Largest partition count placed through label transitions. */
const MAX_PARTITIONS = 256;
/** Series looked at before deciding whether the labels repeat enough to be worth their transitions. */
const PROBE_SERIES = 64;

// Marks a label found not to be ASCII (the exact placement takes such series).
const NOT_ASCII = new Int16Array(0);

/**
 * Places the series of one request, giving the same partition as the exact
 * `partitionFor` (the series hash modulo the count) with less work when
 * label objects repeat, as they do in a decoded remote-write request (the
 * decoder hands every series the same object for the same label bytes).
 *
 * Modulo a power of two the hash is its low k bits, and the low k bits of a
 * FNV-1a step (xor a byte, multiply by the prime) depend only on the low k
 * bits of the state. So for 2^k partitions the state between labels is one
 * of 2^k values, and a label (`name 0xff value 0xff`) maps each of them to
 * the state after it. Each label gets a table of those transitions, filled
 * as states come in (a label that always comes first, like the metric name,
 * needs one entry); a series then costs one map look-up and one table read
 * per label instead of a multiply per byte. When the first series show
 * labels that seldom repeat, the placer stops remembering and hashes each
 * series.
 *
 * Made per request: the map keys are the request's label objects.
 */
export function requestPlacer(partitions: number, exact: PartitionFor): PlaceSeries {
  const n = partitions;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS || (n & (n - 1)) !== 0) {
    return (labels) => exact(labels, n);
  }
  const mask = n - 1;
  const start = FNV1A64_BASIS_LOW & mask;
  let seen: Map<Label, Int16Array> | undefined = new Map();
  let series = 0;
  let lookups = 0;
  let hits = 0;
  // The label last seen at each position and its table: neighbouring series
  // often share labels at the same position (job, instance), which then
  // skips the map.
  const lastLabels: (Label | undefined)[] = [];
  const lastTables: Int16Array[] = [];
  return (labels) => {
    const map = seen;
    if (map === undefined) return exact(labels, n);
    let h = start;
    const count = labels.length;
    for (let i = 0; i < count; i++) {
      const label = labels[i]!;
      let table = lastLabels[i] === label ? lastTables[i] : map.get(label);
      if (table === undefined) {
        table = new Int16Array(n).fill(-1);
        map.set(label, table);
      } else if (table === NOT_ASCII) {
        return exact(labels, n);
      } else {
        hits++;
      }
      let next = table[h]!;
      if (next < 0) {
        next = fnv1a64LabelLowBits(h, label, mask);
        if (next < 0) {
          map.set(label, NOT_ASCII);
          return exact(labels, n);
        }
        table[h] = next;
      }
      lastLabels[i] = label;
      lastTables[i] = table;
      h = next;
    }
    lookups += count;
    if (++series === PROBE_SERIES && hits * 4 < lookups) seen = undefined;
    return h;
  };
}
