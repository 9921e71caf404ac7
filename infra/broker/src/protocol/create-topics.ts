import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * CreateTopics v2-7 (v5+ flexible).
 * Request: topics [name string numPartitions int32 replicationFactor int16
 *   assignments [partitionIndex int32 brokerIds [int32]] configs [name string value nullable string]]
 *   | timeoutMs int32 | validateOnly bool
 * Response: throttleTimeMs int32 | topics [name string | v7+ topicId uuid | errorCode int16
 *   errorMessage nullable string | v5+ numPartitions int32 replicationFactor int16
 *   configs nullable [name string value nullable string readOnly bool configSource int8
 *   isSensitive bool]]
 * Flexible versions end every structure in tagged fields (a topic's tag 0,
 * topicConfigErrorCode, is never sent: the configs are always readable).
 */
export function decodeCreateTopicsRequest(r: Reader, version: number) {
  const flex = version >= 5;
  const topics = r.array((r) => {
    const name = r.string(flex);
    const numPartitions = r.int32();
    const replicationFactor = r.int16();
    const assignments = r.array((r) => {
      const index = r.int32();
      const brokerIds = r.array((r) => r.int32(), flex);
      r.tags(flex);
      return { index, brokerIds };
    }, flex);
    const configs = r.array((r) => {
      const name = r.string(flex);
      const value = r.nullableString(flex);
      r.tags(flex);
      return { name, value };
    }, flex);
    r.tags(flex);
    return { name, numPartitions, replicationFactor, assignments, configs };
  }, flex);
  const timeoutMs = r.int32();
  const validateOnly = r.bool();
  r.tags(flex);
  return { topics, timeoutMs, validateOnly };
}

export interface CreatedTopic {
  name: string;
  /** 32 hex digits, zeros when the topic was not created. */
  id: string;
  errorCode: number;
  errorMessage: string | null;
  numPartitions: number;
  replicationFactor: number;
  configs: Array<{ name: string; value: string; isDefault: boolean }>;
}

export function encodeCreateTopicsResponse(w: Writer, version: number, topics: CreatedTopic[]): void {
  const flex = version >= 5;
  w.int32(0);
  w.array(
    topics,
    (w, t) => {
      w.string(t.name, flex);
      if (version >= 7) w.uuid(t.id);
      w.int16(t.errorCode).nullableString(t.errorMessage, flex);
      if (version >= 5) {
        w.int32(t.numPartitions).int16(t.replicationFactor);
        w.array(
          t.configs,
          (w, c) => {
            w.string(c.name, true).nullableString(c.value, true).bool(false);
            // Config source: 5 is a default, 1 a config set on the topic.
            w.int8(c.isDefault ? 5 : 1)
              .bool(false)
              .tags(true);
          },
          true,
        );
      }
      w.tags(flex);
    },
    flex,
  );
  w.tags(flex);
}
