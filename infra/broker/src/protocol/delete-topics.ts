import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * DeleteTopics v0-1.
 * Request: topicNames [string] | timeoutMs int32
 * Response: v1+ throttleTimeMs int32 | responses [name string errorCode int16]
 */
export function decodeDeleteTopicsRequest(r: Reader) {
  const names = r.array((r) => r.string());
  const timeoutMs = r.int32();
  return { names, timeoutMs };
}

export function encodeDeleteTopicsResponse(
  w: Writer,
  version: number,
  results: Array<{ name: string; errorCode: number }>,
): void {
  if (version >= 1) w.int32(0);
  w.array(results, (w, t) => w.string(t.name).int16(t.errorCode));
}
