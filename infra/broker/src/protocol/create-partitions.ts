import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * CreatePartitions v0-1.
 * Request: topics [name string count int32 assignments nullable [brokerIds [int32]]]
 *   | timeoutMs int32 | validateOnly bool
 * Response: throttleTimeMs int32 | results [name string errorCode int16 errorMessage nullable string]
 */
export function decodeCreatePartitionsRequest(r: Reader) {
  const topics = r.array((r) => ({
    name: r.string(),
    count: r.int32(),
    assignments: r.nullableArray((r) => r.array((r) => r.int32())),
  }));
  const timeoutMs = r.int32();
  const validateOnly = r.bool();
  return { topics, timeoutMs, validateOnly };
}

export function encodeCreatePartitionsResponse(
  w: Writer,
  results: Array<{ name: string; errorCode: number; errorMessage: string | null }>,
): void {
  w.int32(0);
  w.array(results, (w, t) => w.string(t.name).int16(t.errorCode).nullableString(t.errorMessage));
}
