import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * CreateTopics v2-3.
 * Request: topics [name string numPartitions int32 replicationFactor int16
 *   assignments [partitionIndex int32 brokerIds [int32]] configs [name string value nullable string]]
 *   | timeoutMs int32 | validateOnly bool
 * Response: throttleTimeMs int32 | topics [name string errorCode int16 errorMessage nullable string]
 */
export function decodeCreateTopicsRequest(r: Reader) {
  const topics = r.array((r) => ({
    name: r.string(),
    numPartitions: r.int32(),
    replicationFactor: r.int16(),
    assignments: r.array((r) => ({ index: r.int32(), brokerIds: r.array((r) => r.int32()) })),
    configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
  }));
  const timeoutMs = r.int32();
  const validateOnly = r.bool();
  return { topics, timeoutMs, validateOnly };
}

export function encodeCreateTopicsResponse(
  w: Writer,
  topics: Array<{ name: string; errorCode: number; errorMessage: string | null }>,
): void {
  w.int32(0);
  w.array(topics, (w, t) => w.string(t.name).int16(t.errorCode).nullableString(t.errorMessage));
}
