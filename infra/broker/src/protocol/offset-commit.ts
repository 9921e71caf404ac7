import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * OffsetCommit v2-9 (v8+ flexible).
 * Request: groupId string | generationIdOrMemberEpoch int32 | memberId string
 *   | v7+ groupInstanceId nullable string | v2-4 retentionTimeMs int64
 *   | topics [name string | partitions [partitionIndex int32 committedOffset int64
 *       | v6+ committedLeaderEpoch int32 | committedMetadata nullable string]]
 * Response: v3+ throttleTimeMs int32 | topics [name string | partitions [partitionIndex int32 errorCode int16]]
 * Flexible versions end every structure in tagged fields. v9 only changes
 * the meaning of the generation for groups of the KIP-848 protocol, which
 * this broker does not run: for a classic group it is the generation id.
 */
export function decodeOffsetCommitRequest(r: Reader, version: number) {
  const flex = version >= 8;
  const groupId = r.string(flex);
  const generationId = r.int32();
  const memberId = r.string(flex);
  if (version >= 7) r.nullableString(flex);
  if (version >= 2 && version <= 4) r.int64();
  const topics = r.array((r) => {
    const name = r.string(flex);
    const partitions = r.array((r) => {
      const index = r.int32();
      const offset = r.int64();
      if (version >= 6) r.int32();
      const metadata = r.nullableString(flex);
      r.tags(flex);
      return { index, offset, metadata };
    }, flex);
    r.tags(flex);
    return { name, partitions };
  }, flex);
  r.tags(flex);
  return { groupId, generationId, memberId, topics };
}

export function encodeOffsetCommitResponse(
  w: Writer,
  version: number,
  topics: Array<{ name: string; partitions: Array<{ index: number; errorCode: number }> }>,
): void {
  const flex = version >= 8;
  if (version >= 3) w.int32(0);
  w.array(
    topics,
    (w, t) => {
      w.string(t.name, flex);
      w.array(t.partitions, (w, p) => w.int32(p.index).int16(p.errorCode).tags(flex), flex);
      w.tags(flex);
    },
    flex,
  );
  w.tags(flex);
}
