import type { Logger } from 'pino';
import { KafkaCode } from './errors.js';
import { TOPIC_CONFIG_DEFAULTS, type TopicStore } from './log/topics.js';
import {
  type CreatedTopic,
  decodeCreateTopicsRequest,
  encodeCreateTopicsResponse,
} from './protocol/create-topics.js';
import {
  type DescribedResource,
  decodeDescribeConfigsRequest,
  encodeDescribeConfigsResponse,
} from './protocol/describe-configs.js';
import {
  decodeMetadataRequest,
  encodeMetadataResponse,
  type MetadataTopic,
  OPERATIONS_OMITTED,
} from './protocol/metadata.js';
import type { Reader } from './protocol/reader.js';
import type { Writer } from './protocol/writer.js';

/** What the topic requests need of the broker's settings. */
export interface TopicRequestsConfig {
  dataDir: string;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  defaultTopicConfigs: Record<string, string>;
}

/** The topic id of an unknown topic: Kafka's zero UUID. */
const NO_TOPIC_ID = '0'.repeat(32);
/**
 * Every operation on a topic, as Kafka's bit field of ACL operations (read 3,
 * write 4, create 5, delete 6, alter 7, describe 8, describe configs 10, alter
 * configs 11): the broker has no ACLs, so every client may do all of them.
 */
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);

/**
 * The requests about topics as a whole: Metadata (with auto-creation),
 * CreateTopics and DescribeConfigs. Records and partitions are the broker's.
 */
export class TopicRequests {
  constructor(
    private readonly topics: TopicStore,
    private readonly config: TopicRequestsConfig,
    private readonly node: () => { nodeId: number; host: string; port: number },
    private readonly clusterId: string,
    private readonly log: Logger,
  ) {}

  metadata(w: Writer, v: number, r: Reader): void {
    const req = decodeMetadataRequest(r, v);
    const operations = req.includeTopicAuthorizedOperations ? TOPIC_OPERATIONS : OPERATIONS_OMITTED;
    const wanted = req.topics ?? [...this.topics.topics.keys()].map((name) => ({ id: null, name }));
    const topics: MetadataTopic[] = wanted.map((want) => {
      const fail = (errorCode: number): MetadataTopic => ({
        errorCode,
        name: want.name,
        id: want.id ?? NO_TOPIC_ID,
        partitions: [],
        authorizedOperations: OPERATIONS_OMITTED,
      });
      // Newer clients may name a topic by its id alone (v12+ allows a null name).
      const name = want.name ?? this.topicNameById(want.id);
      if (name === null) return fail(KafkaCode.UNKNOWN_TOPIC_ID);
      let topic = this.topics.topics.get(name);
      if (
        topic === undefined &&
        req.topics !== null &&
        want.name !== null &&
        req.allowAutoTopicCreation &&
        this.config.autoCreateTopics
      ) {
        const created = this.topics.create(name, this.config.defaultPartitions, {
          ...this.config.defaultTopicConfigs,
        });
        if (created.code !== KafkaCode.NONE) return fail(created.code);
        this.log.info({ topic: name }, 'topic auto-created');
        topic = this.topics.topics.get(name);
      }
      if (topic === undefined) return fail(KafkaCode.UNKNOWN_TOPIC_OR_PARTITION);
      return {
        errorCode: KafkaCode.NONE,
        name,
        id: topic.id,
        partitions: topic.partitions.map((_, index) => ({ errorCode: KafkaCode.NONE, index })),
        authorizedOperations: operations,
      };
    });
    encodeMetadataResponse(w, v, this.node(), this.clusterId, topics);
  }

  private topicNameById(id: string | null): string | null {
    if (id === null) return null;
    for (const t of this.topics.topics.values()) if (t.id.replaceAll('-', '') === id) return t.name;
    return null;
  }

  createTopics(w: Writer, v: number, r: Reader): void {
    const req = decodeCreateTopicsRequest(r, v);
    const results = req.topics.map((t): CreatedTopic => {
      const failed = (errorCode: number, errorMessage: string | null): CreatedTopic => ({
        name: t.name,
        id: NO_TOPIC_ID,
        errorCode,
        errorMessage,
        numPartitions: -1,
        replicationFactor: -1,
        configs: [],
      });
      if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
        return failed(
          KafkaCode.INVALID_REPLICATION_FACTOR,
          `replication factor ${t.replicationFactor}: this broker is a single node`,
        );
      }
      const partitions =
        t.numPartitions === -1 ? t.assignments.length || this.config.defaultPartitions : t.numPartitions;
      const configs: Record<string, string> = { ...this.config.defaultTopicConfigs };
      for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
      const res = this.topics.create(t.name, partitions, configs, req.validateOnly);
      if (res.code !== KafkaCode.NONE) return failed(res.code, res.message);
      if (!req.validateOnly) this.log.info({ topic: t.name, partitions }, 'topic created');
      const created = this.topics.topics.get(t.name);
      return {
        name: t.name,
        id: created?.id ?? NO_TOPIC_ID,
        errorCode: KafkaCode.NONE,
        errorMessage: null,
        numPartitions: partitions,
        replicationFactor: 1,
        configs: this.topics.describe(t.name) ?? describeDefaults(configs),
      };
    });
    encodeCreateTopicsResponse(w, v, results);
  }

  describeConfigs(w: Writer, v: number, r: Reader): void {
    const req = decodeDescribeConfigsRequest(r, v);
    const results = req.resources.map((res): DescribedResource => {
      const base = { type: res.type, name: res.name };
      if (res.type === 4) {
        const configs = [
          {
            name: 'auto.create.topics.enable',
            value: String(this.config.autoCreateTopics),
            readOnly: true,
            isDefault: false,
          },
          {
            name: 'num.partitions',
            value: String(this.config.defaultPartitions),
            readOnly: true,
            isDefault: false,
          },
          { name: 'log.dirs', value: this.config.dataDir, readOnly: true, isDefault: false },
        ].filter((c) => res.keys === null || res.keys.includes(c.name));
        return { ...base, errorCode: 0, errorMessage: null, configs };
      }
      if (res.type !== 2)
        return {
          ...base,
          errorCode: KafkaCode.INVALID_REQUEST,
          errorMessage: `resource type ${res.type} is not supported`,
          configs: [],
        };
      const described = this.topics.describe(res.name);
      if (described === null) {
        return {
          ...base,
          errorCode: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `topic ${res.name} does not exist`,
          configs: [],
        };
      }
      const configs = described
        .filter((c) => res.keys === null || res.keys.includes(c.name))
        .map((c) => ({ ...c, readOnly: false }));
      return { ...base, errorCode: 0, errorMessage: null, configs };
    });
    encodeDescribeConfigsResponse(w, v, results);
  }
}

/** The configs a topic created with these settings would have (for a create that only validates). */
function describeDefaults(configs: Record<string, string>) {
  return Object.entries(TOPIC_CONFIG_DEFAULTS).map(([name, value]) => ({
    name,
    value: configs[name] ?? value,
    isDefault: configs[name] === undefined,
  }));
}
