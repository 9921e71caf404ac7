import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Metadata v0-6.
 * Request: topics [name string] (v1+ nullable: null means all; v0 empty means all)
 *          | v4+ allowAutoTopicCreation bool
 * Response: v3+ throttleTimeMs int32
 *   | brokers [nodeId int32 host string port int32 | v1+ rack nullable string]
 *   | v2+ clusterId nullable string | v1+ controllerId int32
 *   | topics [errorCode int16 name string | v1+ isInternal bool
 *       | partitions [errorCode int16 partitionIndex int32 leaderId int32
 *           replicaNodes [int32] isrNodes [int32] | v5+ offlineReplicas [int32]]]
 */
export function decodeMetadataRequest(r: Reader, version: number) {
  const topics = r.nullableArray((r) => r.string());
  const allowAutoTopicCreation = version >= 4 ? r.bool() : true;
  return {
    topics: version === 0 && topics !== null && topics.length === 0 ? null : topics,
    allowAutoTopicCreation,
  };
}

export interface MetadataTopic {
  errorCode: number;
  name: string;
  partitions: Array<{ errorCode: number; index: number }>;
}

export function encodeMetadataResponse(
  w: Writer,
  version: number,
  broker: { nodeId: number; host: string; port: number },
  clusterId: string,
  topics: MetadataTopic[],
): void {
  if (version >= 3) w.int32(0);
  w.int32(1).int32(broker.nodeId).string(broker.host).int32(broker.port);
  if (version >= 1) w.nullableString(null);
  if (version >= 2) w.nullableString(clusterId);
  if (version >= 1) w.int32(broker.nodeId);
  w.array(topics, (w, t) => {
    w.int16(t.errorCode).string(t.name);
    if (version >= 1) w.bool(false);
    w.array(t.partitions, (w, p) => {
      w.int16(p.errorCode).int32(p.index).int32(broker.nodeId);
      w.int32(1).int32(broker.nodeId); // replicas
      w.int32(1).int32(broker.nodeId); // in-sync replicas
      if (version >= 5) w.int32(0);
    });
  });
}
