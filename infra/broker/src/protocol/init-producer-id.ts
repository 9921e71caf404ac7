import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * InitProducerId v0-1.
 * Request: transactionalId nullable string | transactionTimeoutMs int32
 * Response: throttleTimeMs int32 | errorCode int16 | producerId int64 | producerEpoch int16
 */
export function decodeInitProducerIdRequest(r: Reader) {
  const transactionalId = r.nullableString();
  const transactionTimeoutMs = r.int32();
  return { transactionalId, transactionTimeoutMs };
}

export function encodeInitProducerIdResponse(
  w: Writer,
  errorCode: number,
  producerId: bigint,
  epoch: number,
): void {
  w.int32(0).int16(errorCode).int64(producerId).int16(epoch);
}
