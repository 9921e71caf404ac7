import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * ListOffsets v0-6 (v6 flexible).
 * Request: replicaId int32 | v2+ isolationLevel int8
 *   | topics [name string | partitions [partitionIndex int32 | v4+ currentLeaderEpoch int32
 *       | timestamp int64 | v0 maxNumOffsets int32]]
 * Response: v2+ throttleTimeMs int32 | topics [name string | partitions [partitionIndex int32
 *   errorCode int16 | v0 oldStyleOffsets [int64] | v1+ timestamp int64 offset int64
 *   | v4+ leaderEpoch int32]]
 * Flexible versions end every structure in tagged fields.
 * Timestamp -1 asks for the latest offset, -2 for the earliest.
 */
export function decodeListOffsetsRequest(r: Reader, version: number) {
  const flex = version >= 6;
  const replicaId = r.int32();
  if (version >= 2) r.int8();
  const topics = r.array((r) => {
    const name = r.string(flex);
    const partitions = r.array((r) => {
      const index = r.int32();
      if (version >= 4) r.int32();
      const timestamp = r.int64();
      const maxNumOffsets = version === 0 ? r.int32() : 1;
      r.tags(flex);
      return { index, timestamp, maxNumOffsets };
    }, flex);
    r.tags(flex);
    return { name, partitions };
  }, flex);
  r.tags(flex);
  return { replicaId, topics };
}

export interface ListOffsetsPartitionResult {
  index: number;
  errorCode: number;
  timestamp: number;
  offset: number;
}

export function encodeListOffsetsResponse(
  w: Writer,
  version: number,
  topics: Array<{ name: string; partitions: ListOffsetsPartitionResult[] }>,
): void {
  const flex = version >= 6;
  if (version >= 2) w.int32(0);
  w.array(
    topics,
    (w, t) => {
      w.string(t.name, flex);
      w.array(
        t.partitions,
        (w, p) => {
          w.int32(p.index).int16(p.errorCode);
          if (version === 0) w.array(p.offset >= 0 ? [p.offset] : [], (w, o) => w.int64(o));
          else w.int64(p.timestamp).int64(p.offset);
          // The leader epoch of the offset found: one node, never re-elected, so 0 (-1 when none).
          if (version >= 4) w.int32(p.offset >= 0 ? 0 : -1);
          w.tags(flex);
        },
        flex,
      );
      w.tags(flex);
    },
    flex,
  );
  w.tags(flex);
}
