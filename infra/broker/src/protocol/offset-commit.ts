import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * OffsetCommit v2-5.
 * Request: groupId string | generationId int32 | memberId string | v2-4 retentionTimeMs int64
 *   | topics [name string | partitions [partitionIndex int32 committedOffset int64
 *       committedMetadata nullable string]]
 * Response: v3+ throttleTimeMs int32 | topics [name string | partitions [partitionIndex int32 errorCode int16]]
 */
export function decodeOffsetCommitRequest(r: Reader, version: number) {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (version >= 2 && version <= 4) r.int64();
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), offset: r.int64(), metadata: r.nullableString() })),
  }));
  return { groupId, generationId, memberId, topics };
}

export function encodeOffsetCommitResponse(
  w: Writer,
  version: number,
  topics: Array<{ name: string; partitions: Array<{ index: number; errorCode: number }> }>,
): void {
  if (version >= 3) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => w.int32(p.index).int16(p.errorCode));
  });
}
