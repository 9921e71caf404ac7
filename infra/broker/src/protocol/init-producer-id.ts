import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * InitProducerId v0-4 (v2+ flexible).
 * Request: transactionalId nullable string | transactionTimeoutMs int32
 *   | v3+ producerId int64 producerEpoch int16
 * Response: throttleTimeMs int32 | errorCode int16 | producerId int64 | producerEpoch int16
 * Flexible versions end every structure in tagged fields. A producer that
 * names its current id and epoch (v3+, after a fatal sequence error) gets a
 * fresh id, which serves an idempotent producer as well as a bumped epoch.
 */
export function decodeInitProducerIdRequest(r: Reader, version: number) {
  const flex = version >= 2;
  const transactionalId = r.nullableString(flex);
  const transactionTimeoutMs = r.int32();
  if (version >= 3) {
    r.bigint64();
    r.int16();
  }
  r.tags(flex);
  return { transactionalId, transactionTimeoutMs };
}

export function encodeInitProducerIdResponse(
  w: Writer,
  version: number,
  errorCode: number,
  producerId: bigint,
  epoch: number,
): void {
  w.int32(0)
    .int16(errorCode)
    .int64(producerId)
    .int16(epoch)
    .tags(version >= 2);
}
