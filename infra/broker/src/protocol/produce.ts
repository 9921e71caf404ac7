import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Produce v0-7.
 * Request: v3+ transactionalId nullable string | acks int16 | timeoutMs int32
 *   | topics [name string | partitions [index int32 records nullable bytes]]
 * Response: responses [name string | partitions [index int32 errorCode int16
 *   baseOffset int64 | v2+ logAppendTimeMs int64 | v5+ logStartOffset int64]]
 *   | v1+ throttleTimeMs int32
 */
export function decodeProduceRequest(r: Reader, version: number) {
  const transactionalId = version >= 3 ? r.nullableString() : null;
  const acks = r.int16();
  const timeoutMs = r.int32();
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
  }));
  return { transactionalId, acks, timeoutMs, topics };
}

export interface ProducePartitionResult {
  index: number;
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
}

export function encodeProduceResponse(
  w: Writer,
  version: number,
  topics: Array<{ name: string; partitions: ProducePartitionResult[] }>,
): void {
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.errorCode).int64(p.baseOffset);
      if (version >= 2) w.int64(-1);
      if (version >= 5) w.int64(p.logStartOffset);
    });
  });
  if (version >= 1) w.int32(0);
}
