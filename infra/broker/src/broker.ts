import type { Logger } from 'pino';
import { KafkaCode } from './errors.js';
import { GroupCoordinator } from './group/coordinator.js';
import { OffsetStore } from './group/offset-store.js';
import { GroupRequests } from './group/requests.js';
import { enforceCleanup } from './log/cleanup.js';
import type { DurabilityProbe } from './log/durability-probe.js';
import { Flusher } from './log/flusher.js';
import type { PartitionLog } from './log/partition-log.js';
import { type BatchHeader, checkBatch } from './log/record-batch.js';
import { TOPIC_CONFIG_DEFAULTS, TopicStore } from './log/topics.js';
import type { BrokerMetrics } from './metrics.js';
import { ProducerIds } from './producer-ids.js';
import { ApiKey, SUPPORTED_VERSIONS } from './protocol/api-keys.js';
import { decodeApiVersionsRequest, encodeApiVersionsResponse } from './protocol/api-versions.js';
import {
  decodeCreatePartitionsRequest,
  encodeCreatePartitionsResponse,
} from './protocol/create-partitions.js';
import { decodeDeleteRecordsRequest, encodeDeleteRecordsResponse } from './protocol/delete-records.js';
import { decodeDeleteTopicsRequest, encodeDeleteTopicsResponse } from './protocol/delete-topics.js';
import { decodeFetchRequest, encodeFetchResponse, type FetchPartitionResult } from './protocol/fetch.js';
import { decodeHeartbeatRequest, encodeHeartbeatResponse } from './protocol/heartbeat.js';
import { decodeInitProducerIdRequest, encodeInitProducerIdResponse } from './protocol/init-producer-id.js';
import { decodeJoinGroupRequest, encodeJoinGroupResponse } from './protocol/join-group.js';
import { decodeLeaveGroupRequest, encodeLeaveGroupResponse } from './protocol/leave-group.js';
import {
  decodeListOffsetsRequest,
  encodeListOffsetsResponse,
  type ListOffsetsPartitionResult,
} from './protocol/list-offsets.js';
import { decodeOffsetCommitRequest, encodeOffsetCommitResponse } from './protocol/offset-commit.js';
import {
  decodeProduceRequest,
  encodeProduceResponse,
  type ProducePartitionResult,
} from './protocol/produce.js';
import type { Reader } from './protocol/reader.js';
import { decodeSyncGroupRequest, encodeSyncGroupResponse } from './protocol/sync-group.js';
import { type FileRange, Writer } from './protocol/writer.js';
import { TopicRequests } from './topic-requests.js';

/** Settings of one broker. */
export interface BrokerConfig {
  dataDir: string;
  /** Host and port clients are told to connect to (Metadata, FindCoordinator). */
  advertisedHost: string;
  advertisedPort: number;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  /** Configs applied to every auto-created or created topic unless the request sets them. */
  defaultTopicConfigs: Record<string, string>;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  now: () => number;
  /** Test seam: told the order of writes, syncs and produce answers (none in production). */
  durabilityProbe?: DurabilityProbe;
}

/** What the connection knows about the request besides its body. */
export interface RequestContext {
  apiKey: number;
  apiVersion: number;
  clientId: string;
  clientHost: string;
  /**
   * Called by a handler once nothing it started reads the request's bytes
   * any more, so the connection may reuse them; a handler that keeps parts
   * of the request (group metadata, say) never calls it.
   */
  release?: () => void;
}

const NODE_ID = 0;
const EMPTY = Buffer.alloc(0);
const CLUSTER_ID = 'promstream-embedded';
/**
 * The broker's request handling: one method per API, each decoding the
 * request body, acting on the topic store, producer state and group
 * coordinator, and encoding the response body. `handle` returns null for
 * requests that get no response (Produce with acks=0).
 */
export class Broker {
  readonly topics: TopicStore;
  readonly flusher: Flusher;
  readonly groups: GroupCoordinator;
  readonly offsets: OffsetStore;
  private readonly producerIds: ProducerIds;
  private readonly groupRequests: GroupRequests;
  private readonly topicRequests: TopicRequests;
  private closed = false;
  private readonly compactedAt = new WeakMap<PartitionLog, number>();
  private readonly fetchTimers = new Set<() => void>();

  constructor(
    readonly config: BrokerConfig,
    private readonly log: Logger,
    private readonly metrics: BrokerMetrics | null,
  ) {
    this.flusher = new Flusher(config.durabilityProbe);
    this.topics = new TopicStore(config.dataDir, config.now, config.durabilityProbe);
    const started = config.now();
    this.topics.load();
    this.offsets = new OffsetStore(config.dataDir, this.flusher);
    this.producerIds = new ProducerIds(config.dataDir);
    this.groups = new GroupCoordinator({
      now: config.now,
      minSessionTimeoutMs: config.minSessionTimeoutMs,
      maxSessionTimeoutMs: config.maxSessionTimeoutMs,
    });
    this.groupRequests = new GroupRequests(this.groups, this.offsets, () => this.node());
    this.topicRequests = new TopicRequests(this.topics, config, () => this.node(), CLUSTER_ID, log);
    log.info({ topics: this.topics.topics.size, ms: config.now() - started }, 'log loaded');
  }

  /** Handles one request body; resolves to the response body, or null when none is sent. */
  async handle(ctx: RequestContext, r: Reader): Promise<Writer | null> {
    const w = new Writer();
    const v = ctx.apiVersion;
    switch (ctx.apiKey) {
      case ApiKey.ApiVersions:
        decodeApiVersionsRequest(r, v);
        encodeApiVersionsResponse(w, v, KafkaCode.NONE, SUPPORTED_VERSIONS);
        return w;
      case ApiKey.Metadata:
        this.topicRequests.metadata(w, v, r);
        return w;
      case ApiKey.Produce:
        return this.produce(w, v, r, ctx.release);
      case ApiKey.Fetch:
        await this.fetch(w, v, r);
        return w;
      case ApiKey.ListOffsets:
        this.listOffsets(w, v, r);
        return w;
      case ApiKey.FindCoordinator:
        this.groupRequests.findCoordinator(w, v, r);
        return w;
      case ApiKey.JoinGroup: {
        const req = decodeJoinGroupRequest(r, v);
        const res = await this.groups.join(req, ctx.clientId, ctx.clientHost);
        encodeJoinGroupResponse(w, v, res, req.protocolType);
        return w;
      }
      case ApiKey.SyncGroup: {
        const req = decodeSyncGroupRequest(r, v);
        const res = await this.groups.sync(req.groupId, req.generationId, req.memberId, req.assignments);
        encodeSyncGroupResponse(w, v, res);
        return w;
      }
      case ApiKey.Heartbeat: {
        const req = decodeHeartbeatRequest(r, v);
        encodeHeartbeatResponse(w, v, this.groups.heartbeat(req.groupId, req.generationId, req.memberId));
        return w;
      }
      case ApiKey.LeaveGroup: {
        const req = decodeLeaveGroupRequest(r, v);
        const members = this.groups.leave(req.groupId, req.memberIds);
        const top = v >= 3 ? KafkaCode.NONE : (members[0]?.errorCode ?? KafkaCode.NONE);
        encodeLeaveGroupResponse(w, v, top, members);
        return w;
      }
      case ApiKey.OffsetCommit:
        await this.offsetCommit(w, v, r);
        return w;
      case ApiKey.OffsetFetch:
        this.groupRequests.offsetFetch(w, v, r);
        return w;
      case ApiKey.DescribeGroups:
        this.groupRequests.describeGroups(w, v, r);
        return w;
      case ApiKey.ListGroups:
        this.groupRequests.listGroups(w, v, r);
        return w;
      case ApiKey.DeleteGroups:
        await this.groupRequests.deleteGroups(w, v, r);
        return w;
      case ApiKey.InitProducerId: {
        const req = decodeInitProducerIdRequest(r, v);
        if (req.transactionalId !== null) {
          // Transactions are not supported: answer as a broker without a transaction coordinator.
          encodeInitProducerIdResponse(w, v, KafkaCode.COORDINATOR_NOT_AVAILABLE, -1n, -1);
        } else {
          encodeInitProducerIdResponse(w, v, KafkaCode.NONE, this.producerIds.next(), 0);
        }
        return w;
      }
      case ApiKey.CreateTopics:
        this.topicRequests.createTopics(w, v, r);
        return w;
      case ApiKey.DeleteTopics: {
        const req = decodeDeleteTopicsRequest(r);
        const results = req.names.map((name) => {
          return { name, errorCode: this.topics.delete(name) };
        });
        encodeDeleteTopicsResponse(w, v, results);
        return w;
      }
      case ApiKey.DescribeConfigs:
        this.topicRequests.describeConfigs(w, v, r);
        return w;
      case ApiKey.DeleteRecords:
        this.deleteRecords(w, r);
        return w;
      case ApiKey.CreatePartitions: {
        const req = decodeCreatePartitionsRequest(r);
        encodeCreatePartitionsResponse(
          w,
          req.topics.map((t) => ({
            name: t.name,
            ...rename(this.topics.addPartitions(t.name, t.count, req.validateOnly)),
          })),
        );
        return w;
      }
      default:
        // The server checks versions first; reaching here means the table and the switch disagree.
        throw new Error(`no handler for api ${ctx.apiKey}`);
    }
  }

  private node() {
    return { nodeId: NODE_ID, host: this.config.advertisedHost, port: this.config.advertisedPort };
  }

  private async produce(w: Writer, v: number, r: Reader, release?: () => void): Promise<Writer | null> {
    const req = decodeProduceRequest(r, v);
    const touched = new Set<number>();
    const writes: Array<{ written: Promise<boolean>; result: ProducePartitionResult }> = [];
    // The offsets each partition's answer stands for, for the durability probe.
    const ranges: Array<{
      result: ProducePartitionResult;
      range: { log: string; from: number; to: number };
    }> = [];
    const results = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p): ProducePartitionResult => {
        const res = this.appendPartition(t.name, p.index, p.records, req.acks);
        const result = {
          index: p.index,
          errorCode: res.errorCode,
          baseOffset: res.baseOffset,
          logStartOffset: res.logStartOffset,
        };
        if (res.range !== null) ranges.push({ result, range: res.range });
        if (res.written !== null) writes.push({ written: res.written, result });
        if (res.errorCode === KafkaCode.NONE && res.fd !== null) touched.add(res.fd);
        return result;
      }),
    }));
    // Every append is awaited, acks=0 included, so that a failed write is logged, never unhandled.
    let wroteAll = true;
    // Batches written through an O_DSYNC descriptor are on disk already; only the others need a round.
    let syncedAll = true;
    await Promise.all(
      writes.map(({ written, result }) =>
        written.then(
          (synced) => {
            if (!synced) syncedAll = false;
          },
          (err: unknown) => {
            this.log.error({ err }, 'write of produced batches failed');
            result.errorCode = KafkaCode.KAFKA_STORAGE_ERROR;
            result.baseOffset = -1;
            wroteAll = false;
          },
        ),
      ),
    );
    // Every write of these bytes has completed (a failed log may still have some in flight).
    if (wroteAll) release?.();
    if (req.acks === 0) return null;
    if (req.acks === -1 && touched.size > 0 && wroteAll && !syncedAll) {
      try {
        await this.flusher.sync(touched);
      } catch (err) {
        this.log.error({ err }, 'fsync of produced batches failed');
        for (const t of results)
          for (const p of t.partitions) if (p.errorCode === 0) p.errorCode = KafkaCode.UNKNOWN_SERVER_ERROR;
      }
    } else if (req.acks === -1 && !wroteAll) {
      for (const t of results)
        for (const p of t.partitions) if (p.errorCode === 0) p.errorCode = KafkaCode.KAFKA_STORAGE_ERROR;
    }
    this.config.durabilityProbe?.answered(
      req.acks,
      ranges.filter((r) => r.result.errorCode === KafkaCode.NONE).map((r) => r.range),
    );
    encodeProduceResponse(w, v, results);
    return w;
  }

  private appendPartition(
    topicName: string,
    partition: number,
    records: Buffer | null,
    acks: number,
  ): {
    errorCode: number;
    baseOffset: number;
    logStartOffset: number;
    fd: number | null;
    written: Promise<boolean> | null;
    /** The offsets the answer acknowledges (the original's for a duplicate). */
    range: { log: string; from: number; to: number } | null;
  } {
    const fail = (errorCode: number) => ({
      errorCode,
      baseOffset: -1,
      logStartOffset: -1,
      fd: null,
      written: null,
      range: null,
    });
    if (acks !== 0 && acks !== 1 && acks !== -1) return fail(KafkaCode.INVALID_REQUIRED_ACKS);
    const topic = this.topics.topics.get(topicName);
    const log = topic?.partitions[partition];
    if (topic === undefined || log === undefined) return fail(KafkaCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (records === null || records.length === 0) return fail(KafkaCode.CORRUPT_MESSAGE);
    try {
      // A failed log (a full disk) tries to recover here, before the producer state is read.
      log.ensureWritable();
    } catch (err) {
      this.metrics?.storageRefusals.inc();
      this.log.debug({ err: (err as Error).message, topic: topicName, partition }, 'append refused');
      return fail(KafkaCode.KAFKA_STORAGE_ERROR);
    }
    const maxBatch = Number(topic.configs['max.message.bytes'] ?? TOPIC_CONFIG_DEFAULTS['max.message.bytes']);
    const aheadLimit =
      this.config.now() +
      Number(
        topic.configs['message.timestamp.after.max.ms'] ??
          TOPIC_CONFIG_DEFAULTS['message.timestamp.after.max.ms'],
      );
    const headers: Array<{ at: number; header: BatchHeader }> = [];
    for (let at = 0; at < records.length; ) {
      const h = checkBatch(records, at);
      if (typeof h === 'string') {
        this.metrics?.corruptBatches.inc();
        return fail(h === 'bad-magic' ? KafkaCode.UNSUPPORTED_FOR_MESSAGE_FORMAT : KafkaCode.CORRUPT_MESSAGE);
      }
      if (h.size > maxBatch) return fail(KafkaCode.MESSAGE_TOO_LARGE);
      // The batch's maxTimestamp bounds every record in it, so one check covers the batch.
      if (h.maxTimestamp > aheadLimit) {
        this.metrics?.timestampRefusals.inc();
        return fail(KafkaCode.INVALID_TIMESTAMP);
      }
      headers.push({ at, header: h });
      at += h.size;
    }
    const states = log.producers;
    for (const { header: h } of headers) {
      const check = states.check(h.producerId, h.producerEpoch, h.baseSequence, h.recordCount);
      if (check.kind === 'reject') return fail(check.code);
      if (check.kind === 'duplicate') {
        // A retry of a batch already appended: answer with its offset and write nothing, but
        // only once the original is as durable as this request asks (written, then fsynced).
        return {
          errorCode: KafkaCode.NONE,
          baseOffset: check.baseOffset,
          logStartOffset: log.logStartOffset,
          fd: log.activeFd,
          written: log.written().then(() => false),
          range: { log: log.dir, from: check.baseOffset, to: check.baseOffset + h.lastOffsetDelta + 1 },
        };
      }
    }
    let appended: { baseOffset: number; written: Promise<boolean> };
    try {
      appended = log.append(records, headers, acks === -1);
    } catch (err) {
      this.log.error({ err }, 'append refused');
      return fail(KafkaCode.KAFKA_STORAGE_ERROR);
    }
    const { baseOffset, written } = appended;
    let next = baseOffset;
    let count = 0;
    for (const { header: h } of headers) {
      states.record(h.producerId, h.producerEpoch, h.baseSequence, h.recordCount, next);
      next += h.lastOffsetDelta + 1;
      count += h.recordCount;
    }
    this.metrics?.producedBytes.inc(records.length);
    this.metrics?.producedRecords.inc(count);
    return {
      errorCode: KafkaCode.NONE,
      baseOffset,
      logStartOffset: log.logStartOffset,
      fd: log.activeFd,
      written,
      range: { log: log.dir, from: baseOffset, to: next },
    };
  }

  private async fetch(w: Writer, v: number, r: Reader): Promise<void> {
    const req = decodeFetchRequest(r, v);
    const deadline = this.config.now() + Math.max(0, req.maxWaitMs);
    for (;;) {
      let total = 0;
      const logs: PartitionLog[] = [];
      const ranges: FileRange[] = [];
      const topics: Array<{ topic: string; partitions: FetchPartitionResult[] }> = [];
      for (const t of req.topics) {
        const partitions: FetchPartitionResult[] = [];
        for (const p of t.partitions) {
          const log = this.topics.partition(t.topic, p.partition);
          if (log === null) {
            partitions.push({
              index: p.partition,
              errorCode: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION,
              highWatermark: -1,
              logStartOffset: -1,
              records: null,
            });
            continue;
          }
          logs.push(log);
          const hw = log.readableOffset;
          const base = { index: p.partition, highWatermark: hw, logStartOffset: log.logStartOffset };
          if (p.fetchOffset < log.logStartOffset || p.fetchOffset > hw) {
            partitions.push({ ...base, errorCode: KafkaCode.OFFSET_OUT_OF_RANGE, records: null });
            continue;
          }
          // The first partition with data always gets at least one whole batch, so consumers make progress.
          const budget = Math.min(p.maxBytes, req.maxBytes - total);
          let records: FileRange[] = [];
          if (p.fetchOffset < hw && (budget > 0 || total === 0))
            records = log.slice(p.fetchOffset, Math.max(budget, 1));
          for (const range of records) {
            total += range.length;
            ranges.push(range);
          }
          partitions.push({
            ...base,
            errorCode: KafkaCode.NONE,
            records: records.length > 0 ? records : EMPTY,
          });
        }
        topics.push({ topic: t.topic, partitions });
      }
      const wait = deadline - this.config.now();
      if (total >= req.minBytes || wait <= 0 || this.closed || logs.length === 0) {
        this.metrics?.fetchedBytes.inc(total);
        // The ranges are read and sent by the connection, which releases them.
        encodeFetchResponse(w, v, topics);
        return;
      }
      for (const range of ranges) range.release();
      await new Promise<void>((resolve) => {
        const cancels: Array<() => void> = [];
        const done = () => {
          clearTimeout(timer);
          for (const c of cancels) c();
          this.fetchTimers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        for (const log of logs) cancels.push(log.waitForAppend(done));
        this.fetchTimers.add(done);
      });
    }
  }

  private listOffsets(w: Writer, v: number, r: Reader): void {
    const req = decodeListOffsetsRequest(r, v);
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p): ListOffsetsPartitionResult => {
        const log = this.topics.partition(t.name, p.index);
        if (log === null)
          return {
            index: p.index,
            errorCode: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION,
            timestamp: -1,
            offset: -1,
          };
        if (p.timestamp === -1)
          return { index: p.index, errorCode: 0, timestamp: -1, offset: log.readableOffset };
        if (p.timestamp === -2)
          return { index: p.index, errorCode: 0, timestamp: -1, offset: log.logStartOffset };
        const found = log.offsetForTimestamp(p.timestamp);
        return {
          index: p.index,
          errorCode: 0,
          timestamp: found?.timestamp ?? -1,
          offset: found?.offset ?? -1,
        };
      }),
    }));
    encodeListOffsetsResponse(w, v, topics);
  }

  private async offsetCommit(w: Writer, v: number, r: Reader): Promise<void> {
    const req = decodeOffsetCommitRequest(r, v);
    const check = this.groups.validateCommit(req.groupId, req.generationId, req.memberId);
    const commits: Array<{ topic: string; partition: number; offset: number; metadata: string | null }> = [];
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        if (check !== KafkaCode.NONE) return { index: p.index, errorCode: check };
        if (this.topics.partition(t.name, p.index) === null) {
          return { index: p.index, errorCode: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION };
        }
        commits.push({ topic: t.name, partition: p.index, offset: p.offset, metadata: p.metadata });
        return { index: p.index, errorCode: KafkaCode.NONE };
      }),
    }));
    await this.offsets.commit(req.groupId, commits);
    encodeOffsetCommitResponse(w, v, topics);
  }

  private deleteRecords(w: Writer, r: Reader): void {
    const req = decodeDeleteRecordsRequest(r);
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const log = this.topics.partition(t.name, p.index);
        if (log === null)
          return { index: p.index, lowWatermark: -1, errorCode: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION };
        // Bounded by the high watermark, as Kafka does: only written records can be deleted up to.
        const target = p.offset === -1 ? log.readableOffset : p.offset;
        if (target < 0 || target > log.readableOffset)
          return { index: p.index, lowWatermark: -1, errorCode: KafkaCode.OFFSET_OUT_OF_RANGE };
        log.deleteBefore(target);
        return { index: p.index, lowWatermark: log.logStartOffset, errorCode: KafkaCode.NONE };
      }),
    }));
    encodeDeleteRecordsResponse(w, topics);
  }

  /**
   * Applies retention to every partition of a topic with the delete policy
   * and compacts those with the compact policy; the server calls it on a timer.
   */
  enforceRetention(): void {
    enforceCleanup(this.topics, this.compactedAt, this.config.now(), this.log);
  }

  /** Wakes waiting fetches and group requests, flushes and closes every file. */
  close(): void {
    this.closed = true;
    for (const done of [...this.fetchTimers]) done();
    this.groups.close();
    this.topics.close();
    this.offsets.close();
  }
}

function rename(res: { code: number; message: string | null }): {
  errorCode: number;
  errorMessage: string | null;
} {
  return { errorCode: res.code, errorMessage: res.message };
}
