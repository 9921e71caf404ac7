import { crc32c } from '@promstream/storage/checksum';

/**
 * The header fields of a Kafka record batch (magic 2) that the broker needs.
 * The records themselves are never decoded: batches are stored byte for byte
 * with only the base offset rewritten (it is outside the CRC).
 *
 *   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32
 *  16 magic int8 | 17 crc uint32 (CRC-32C of bytes 21..end) | 21 attributes int16
 *  23 lastOffsetDelta int32 | 27 firstTimestamp int64 | 35 maxTimestamp int64
 *  43 producerId int64 | 51 producerEpoch int16 | 53 baseSequence int32
 *  57 recordCount int32 | 61 records...
 */
export const BATCH_HEADER_SIZE = 61;
/** Bytes before and including batchLength: the rest of the batch follows. */
export const BATCH_LOG_OVERHEAD = 12;

export interface BatchHeader {
  /** Total bytes of the batch, header included. */
  size: number;
  baseOffset: number;
  magic: number;
  attributes: number;
  lastOffsetDelta: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Why a run of bytes is not a valid batch. */
export type BatchProblem = 'truncated' | 'bad-length' | 'bad-magic' | 'bad-crc' | 'bad-count';

/**
 * Reads the header of the batch at `at` and checks its length, magic and
 * CRC. Returns the header or the first problem found.
 */
export function checkBatch(buf: Buffer, at: number, verifyCrc = true): BatchHeader | BatchProblem {
  if (buf.length - at < BATCH_LOG_OVERHEAD) return 'truncated';
  const batchLength = buf.readInt32BE(at + 8);
  if (batchLength < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD) return 'bad-length';
  const size = batchLength + BATCH_LOG_OVERHEAD;
  if (buf.length - at < size) return 'truncated';
  const magic = buf.readInt8(at + 16);
  if (magic !== 2) return 'bad-magic';
  if (verifyCrc && buf.readUInt32BE(at + 17) !== crc32c(buf.subarray(at + 21, at + size))) return 'bad-crc';
  const lastOffsetDelta = buf.readInt32BE(at + 23);
  const recordCount = buf.readInt32BE(at + 57);
  if (lastOffsetDelta < 0 || recordCount < 0 || recordCount > lastOffsetDelta + 1) return 'bad-count';
  return {
    size,
    baseOffset: Number(buf.readBigInt64BE(at)),
    magic,
    attributes: buf.readInt16BE(at + 21),
    lastOffsetDelta,
    firstTimestamp: Number(buf.readBigInt64BE(at + 27)),
    maxTimestamp: Number(buf.readBigInt64BE(at + 35)),
    producerId: buf.readBigInt64BE(at + 43),
    producerEpoch: buf.readInt16BE(at + 51),
    baseSequence: buf.readInt32BE(at + 53),
    recordCount,
  };
}

/** Rewrites the base offset of the batch at `at` in place; the CRC does not cover it. */
export function setBaseOffset(buf: Buffer, at: number, baseOffset: number): void {
  buf.writeBigInt64BE(BigInt(baseOffset), at);
}

/** True when the batch belongs to a transaction or is a control batch (attributes bits 4 and 5). */
export function isTransactionalOrControl(attributes: number): boolean {
  return (attributes & 0x30) !== 0;
}
