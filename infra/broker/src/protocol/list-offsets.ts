import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * ListOffsets v0-3.
 * Request: replicaId int32 | v2+ isolationLevel int8
 *   | topics [name string | partitions [partitionIndex int32 timestamp int64 | v0 maxNumOffsets int32]]
 * Response: v2+ throttleTimeMs int32 | topics [name string | partitions [partitionIndex int32
 *   errorCode int16 | v0 oldStyleOffsets [int64] | v1+ timestamp int64 offset int64]]
 * Timestamp -1 asks for the latest offset, -2 for the earliest.
 */
export function decodeListOffsetsRequest(r: Reader, version: number) {
  const replicaId = r.int32();
  if (version >= 2) r.int8();
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const index = r.int32();
      const timestamp = r.int64();
      const maxNumOffsets = version === 0 ? r.int32() : 1;
      return { index, timestamp, maxNumOffsets };
    }),
  }));
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
  if (version >= 2) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.errorCode);
      if (version === 0) w.array(p.offset >= 0 ? [p.offset] : [], (w, o) => w.int64(o));
      else w.int64(p.timestamp).int64(p.offset);
    });
  });
}
