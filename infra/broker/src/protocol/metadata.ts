import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Metadata v0-13 (v9+ flexible).
 * Request: topics [v10+ topicId uuid | name string (v10+ nullable)] (v1+ nullable: null means
 *          all; v0 empty means all) | v4+ allowAutoTopicCreation bool
 *          | v8-10 includeClusterAuthorizedOperations bool | v8+ includeTopicAuthorizedOperations bool
 * Response: v3+ throttleTimeMs int32
 *   | brokers [nodeId int32 host string port int32 | v1+ rack nullable string]
 *   | v2+ clusterId nullable string | v1+ controllerId int32
 *   | topics [errorCode int16 name string (v12+ nullable) | v10+ topicId uuid | v1+ isInternal bool
 *       | partitions [errorCode int16 partitionIndex int32 leaderId int32 | v7+ leaderEpoch int32
 *           | replicaNodes [int32] isrNodes [int32] | v5+ offlineReplicas [int32]]
 *       | v8+ topicAuthorizedOperations int32]
 *   | v8-10 clusterAuthorizedOperations int32 | v13+ errorCode int16
 * Flexible versions end every structure in tagged fields. Authorized
 * operations are INT32_MIN when the request did not ask for them.
 */
export function decodeMetadataRequest(r: Reader, version: number) {
  const flex = version >= 9;
  const topics = r.nullableArray((r) => {
    const id = version >= 10 ? r.uuid() : null;
    const name = version >= 10 ? r.nullableString(flex) : r.string(flex);
    r.tags(flex);
    return { id, name };
  }, flex);
  const allowAutoTopicCreation = version >= 4 ? r.bool() : true;
  if (version >= 8 && version <= 10) r.bool();
  const includeTopicAuthorizedOperations = version >= 8 ? r.bool() : false;
  r.tags(flex);
  return {
    topics: version === 0 && topics !== null && topics.length === 0 ? null : topics,
    allowAutoTopicCreation,
    includeTopicAuthorizedOperations,
  };
}

export interface MetadataTopic {
  errorCode: number;
  name: string | null;
  /** 32 hex digits; zeros when the topic is unknown. */
  id: string;
  partitions: Array<{ errorCode: number; index: number }>;
  authorizedOperations: number;
}

/** Authorized operations when the request did not ask for them. */
export const OPERATIONS_OMITTED = -2147483648;

export function encodeMetadataResponse(
  w: Writer,
  version: number,
  broker: { nodeId: number; host: string; port: number },
  clusterId: string,
  topics: MetadataTopic[],
): void {
  const flex = version >= 9;
  if (version >= 3) w.int32(0);
  w.array(
    [broker],
    (w, b) => {
      w.int32(b.nodeId).string(b.host, flex).int32(b.port);
      if (version >= 1) w.nullableString(null, flex);
      w.tags(flex);
    },
    flex,
  );
  if (version >= 2) w.nullableString(clusterId, flex);
  if (version >= 1) w.int32(broker.nodeId);
  w.array(
    topics,
    (w, t) => {
      w.int16(t.errorCode).nullableString(t.name, flex);
      if (version >= 10) w.uuid(t.id);
      if (version >= 1) w.bool(false);
      w.array(
        t.partitions,
        (w, p) => {
          w.int16(p.errorCode).int32(p.index).int32(broker.nodeId);
          if (version >= 7) w.int32(0); // leader epoch: one node, never re-elected
          w.array([broker.nodeId], (w, n) => w.int32(n), flex); // replicas
          w.array([broker.nodeId], (w, n) => w.int32(n), flex); // in-sync replicas
          if (version >= 5) w.array([], () => {}, flex); // offline replicas
          w.tags(flex);
        },
        flex,
      );
      if (version >= 8) w.int32(t.authorizedOperations);
      w.tags(flex);
    },
    flex,
  );
  if (version >= 8 && version <= 10) w.int32(OPERATIONS_OMITTED);
  if (version >= 13) w.int16(0);
  w.tags(flex);
}
