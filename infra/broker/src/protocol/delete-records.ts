import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * DeleteRecords v0-1.
 * Request: topics [name string | partitions [partitionIndex int32 offset int64]] | timeoutMs int32
 * Response: throttleTimeMs int32 | topics [name string | partitions [partitionIndex int32
 *   lowWatermark int64 errorCode int16]]
 * Offset -1 means the high watermark.
 */
export function decodeDeleteRecordsRequest(r: Reader) {
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), offset: r.int64() })),
  }));
  const timeoutMs = r.int32();
  return { topics, timeoutMs };
}

export function encodeDeleteRecordsResponse(
  w: Writer,
  topics: Array<{
    name: string;
    partitions: Array<{ index: number; lowWatermark: number; errorCode: number }>;
  }>,
): void {
  w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => w.int32(p.index).int64(p.lowWatermark).int16(p.errorCode));
  });
}
