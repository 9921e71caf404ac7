import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * OffsetFetch v1-4.
 * Request: groupId string | topics [name string partitionIndexes [int32]] (v2+ nullable: all)
 * Response: v3+ throttleTimeMs int32 | topics [name string | partitions [partitionIndex int32
 *   committedOffset int64 metadata nullable string errorCode int16]] | v2+ errorCode int16
 */
export function decodeOffsetFetchRequest(r: Reader) {
  const groupId = r.string();
  const topics = r.nullableArray((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) }));
  return { groupId, topics };
}

export interface OffsetFetchPartition {
  index: number;
  offset: number;
  metadata: string | null;
  errorCode: number;
}

export function encodeOffsetFetchResponse(
  w: Writer,
  version: number,
  topics: Array<{ name: string; partitions: OffsetFetchPartition[] }>,
  errorCode: number,
): void {
  if (version >= 3) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) =>
      w.int32(p.index).int64(p.offset).nullableString(p.metadata).int16(p.errorCode),
    );
  });
  if (version >= 2) w.int16(errorCode);
}
