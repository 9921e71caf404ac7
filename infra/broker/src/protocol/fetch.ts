import type { Reader } from './reader.js';
import type { FileRange, Writer } from './writer.js';

/**
 * Fetch v0-12 (v12 flexible).
 * Request: replicaId int32 | maxWaitMs int32 | minBytes int32 | v3+ maxBytes int32
 *   | v4+ isolationLevel int8 | v7+ sessionId int32 sessionEpoch int32
 *   | topics [topic string | partitions [partition int32 | v9+ currentLeaderEpoch int32
 *       | fetchOffset int64 | v12+ lastFetchedEpoch int32 | v5+ logStartOffset int64
 *       | partitionMaxBytes int32]]
 *   | v7+ forgottenTopicsData [topic string partitions [int32]] | v11+ rackId string
 * Response: v1+ throttleTimeMs int32 | v7+ errorCode int16 sessionId int32
 *   | responses [topic string | partitions [partitionIndex int32 errorCode int16
 *       highWatermark int64 | v4+ lastStableOffset int64 | v5+ logStartOffset int64
 *       | v4+ abortedTransactions nullable [producerId int64 firstOffset int64]
 *       | v11+ preferredReadReplica int32 | records nullable bytes]]
 * Flexible versions end every structure in tagged fields; the ones a v12
 * answer may carry (diverging epoch, current leader, snapshot id) concern
 * followers and moved leaders, so none is sent. v13 and later name topics by
 * id and are not served.
 * The broker keeps no fetch sessions: it answers session id 0, which tells
 * the client to send full requests.
 */
export function decodeFetchRequest(r: Reader, version: number) {
  const flex = version >= 12;
  const replicaId = r.int32();
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = version >= 3 ? r.int32() : 0x7fffffff;
  const isolationLevel = version >= 4 ? r.int8() : 0;
  if (version >= 7) {
    r.int32();
    r.int32();
  }
  const topics = r.array((r) => {
    const topic = r.string(flex);
    const partitions = r.array((r) => {
      const partition = r.int32();
      if (version >= 9) r.int32();
      const fetchOffset = r.int64();
      if (version >= 12) r.int32();
      if (version >= 5) r.int64();
      const maxBytes = r.int32();
      r.tags(flex);
      return { partition, fetchOffset, maxBytes };
    }, flex);
    r.tags(flex);
    return { topic, partitions };
  }, flex);
  if (version >= 7)
    r.array((r) => {
      r.string(flex);
      r.array((r) => r.int32(), flex);
      r.tags(flex);
    }, flex);
  if (version >= 11) r.string(flex);
  r.tags(flex);
  return { replicaId, maxWaitMs, minBytes, maxBytes, isolationLevel, topics };
}

export interface FetchPartitionResult {
  index: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** The batches, in memory or as ranges of segment files read while the answer is sent. */
  records: Buffer | FileRange[] | null;
}

export function encodeFetchResponse(
  w: Writer,
  version: number,
  topics: Array<{ topic: string; partitions: FetchPartitionResult[] }>,
): void {
  const flex = version >= 12;
  if (version >= 1) w.int32(0);
  if (version >= 7) w.int16(0).int32(0);
  w.array(
    topics,
    (w, t) => {
      w.string(t.topic, flex);
      w.array(
        t.partitions,
        (w, p) => {
          w.int32(p.index).int16(p.errorCode).int64(p.highWatermark);
          if (version >= 4) w.int64(p.highWatermark);
          if (version >= 5) w.int64(p.logStartOffset);
          if (version >= 4) w.array([], () => {}, flex); // no aborted transactions
          if (version >= 11) w.int32(-1);
          if (p.records === null || Buffer.isBuffer(p.records)) w.nullableBytes(p.records, flex);
          else {
            let length = 0;
            for (const r of p.records) length += r.length;
            if (flex) w.uvarint(length + 1);
            else w.int32(length);
            for (const r of p.records) w.fileRange(r);
          }
          w.tags(flex);
        },
        flex,
      );
      w.tags(flex);
    },
    flex,
  );
  w.tags(flex);
}
