import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Produce v0-11 (v9+ flexible).
 * Request: v3+ transactionalId nullable string | acks int16 | timeoutMs int32
 *   | topics [name string | partitions [index int32 records nullable bytes]]
 * Response: responses [name string | partitions [index int32 errorCode int16
 *   baseOffset int64 | v2+ logAppendTimeMs int64 | v5+ logStartOffset int64
 *   | v8+ recordErrors [batchIndex int32 batchIndexErrorMessage nullable string]
 *   | v8+ errorMessage nullable string]] | v1+ throttleTimeMs int32
 * Flexible versions end every structure in tagged fields; the tagged fields
 * of v10+ (the current leader, for a client to follow a moved partition) are
 * never sent: this broker leads every partition. v11 has the v10 layout.
 */
export function decodeProduceRequest(r: Reader, version: number) {
  const flex = version >= 9;
  const transactionalId = version >= 3 ? r.nullableString(flex) : null;
  const acks = r.int16();
  const timeoutMs = r.int32();
  const topics = r.array((r) => {
    const name = r.string(flex);
    const partitions = r.array((r) => {
      const p = { index: r.int32(), records: r.nullableBytes(flex) };
      r.tags(flex);
      return p;
    }, flex);
    r.tags(flex);
    return { name, partitions };
  }, flex);
  r.tags(flex);
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
  const flex = version >= 9;
  w.array(
    topics,
    (w, t) => {
      w.string(t.name, flex);
      w.array(
        t.partitions,
        (w, p) => {
          w.int32(p.index).int16(p.errorCode).int64(p.baseOffset);
          if (version >= 2) w.int64(-1);
          if (version >= 5) w.int64(p.logStartOffset);
          if (version >= 8) w.array([], () => {}, flex).nullableString(null, flex);
          w.tags(flex);
        },
        flex,
      );
      w.tags(flex);
    },
    flex,
  );
  if (version >= 1) w.int32(0);
  w.tags(flex);
}
