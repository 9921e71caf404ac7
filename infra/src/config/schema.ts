/**
 * The one configuration schema of every role. Each setting is listed once,
 * with its kind, default, environment variable, command-line flag and the
 * roles that take the flag. The loader, the flags of every sub-command,
 * `promstream config print` and `docs/config.md` are all derived from this
 * table, so a setting cannot exist in one of them and not the others.
 */

import { AGENT_SETTINGS } from './schema-agent.js';
import { COMPACTOR_SETTINGS } from './schema-compactor.js';
import { EVENT_STORE_SETTINGS } from './schema-event-store.js';
import { ROLLUPS_SETTINGS } from './schema-rollups.js';
import { RULES_SETTINGS } from './schema-rules.js';

/** The sub-commands that read the configuration. */
export const CONFIG_ROLES = [
  'broker',
  'registry',
  'gateway',
  'agent',
  'block-builder',
  'compactor',
  'event-store',
  'rollups',
  'query',
  'rules',
  'replay',
  'deadletter',
  'import',
  'export',
  'block',
  'up',
] as const;
export type ConfigRole = (typeof CONFIG_ROLES)[number];

/** How a setting's value is read and checked. */
export type SettingKind =
  | 'string'
  | 'path'
  | 'url'
  | 'store-url'
  | 'port'
  | 'int'
  | 'bytes'
  | 'number'
  | 'duration'
  | 'bool'
  | 'brokers'
  | 'level'
  | 'pairs'
  | 'tenants';

/** One setting of the schema. */
export interface Setting {
  /** Dotted path in the YAML file and in the loaded config. */
  key: string;
  kind: SettingKind;
  /** The built-in default; undefined means unset unless a source sets it. */
  default?: unknown;
  /** Environment variable that sets it, if any. */
  env?: string;
  /** Command-line flag with its value name (`--port <port>`), if any. */
  flag?: string;
  /** Roles that accept `flag`. */
  roles?: readonly ConfigRole[];
  /** Smallest and largest value of `int`, `bytes`, `number` and `duration` settings. */
  min?: number;
  max?: number;
  /** Printed as `<redacted>` by `promstream config print`. */
  secret?: boolean;
  help: string;
}

const ALL: readonly ConfigRole[] = CONFIG_ROLES;
const LOG_ROLES: readonly ConfigRole[] = [
  'registry',
  'gateway',
  'agent',
  'block-builder',
  'event-store',
  'rollups',
  'query',
  'rules',
  'replay',
  'deadletter',
  'import',
  'export',
];
const REGISTRY_CLIENTS: readonly ConfigRole[] = [
  'gateway',
  'agent',
  'block-builder',
  'event-store',
  'rollups',
  'query',
  'rules',
  'replay',
  'import',
];
const STORE_ROLES: readonly ConfigRole[] = [
  'block-builder',
  'compactor',
  'event-store',
  'rollups',
  'query',
  'rules',
  'replay',
  'import',
  'export',
  'block',
];
const PLACEMENT_ROLES: readonly ConfigRole[] = ['block-builder', 'query', 'rules', 'replay'];
const MS_DAY = 86_400_000;
const MS_YEAR = 366 * MS_DAY;

/** Every setting, in the order `config print` and the docs show them. */
export const SETTINGS: readonly Setting[] = [
  {
    key: 'dataDir',
    kind: 'path',
    default: './data',
    env: 'PROMSTREAM_DATA',
    flag: '--data <dir>',
    roles: ['agent', 'block-builder', 'compactor', 'rollups', 'query', 'rules', 'replay', 'up'],
    help: 'data directory: the agent buffer in <data>/agent, blocks in <data>/blocks when no store is set (up: the log in <data>/log too)',
  },
  {
    key: 'logLevel',
    kind: 'level',
    default: 'info',
    env: 'PROMSTREAM_LOG_LEVEL',
    flag: '--log-level <level>',
    roles: ALL,
    help: 'trace, debug, info, warn, error, fatal or silent',
  },
  {
    key: 'kafka.brokers',
    kind: 'brokers',
    default: ['127.0.0.1:9092'],
    env: 'KAFKA_BROKERS',
    flag: '--brokers <list>',
    roles: LOG_ROLES,
    help: 'Kafka bootstrap brokers, host:port,...',
  },
  {
    key: 'kafka.samplesTopic',
    kind: 'string',
    default: 'promstream.samples.v1',
    env: 'PROMSTREAM_SAMPLES_TOPIC',
    flag: '--topic <topic>',
    roles: ['block-builder', 'rollups', 'query', 'rules', 'replay'],
    help: 'the samples topic',
  },
  {
    key: 'kafka.samplesPartitions',
    kind: 'int',
    default: 4,
    env: 'PROMSTREAM_SAMPLES_PARTITIONS',
    min: 1,
    max: 10_000,
    help: 'partitions of the samples topic when a writer creates it',
  },
  {
    key: 'registryUrl',
    kind: 'url',
    default: 'http://127.0.0.1:8081',
    env: 'SCHEMA_REGISTRY_URL',
    flag: '--registry <url>',
    roles: REGISTRY_CLIENTS,
    help: 'schema registry URL (Confluent REST API)',
  },
  {
    key: 'objectStore',
    kind: 'store-url',
    default: '',
    env: 'PROMSTREAM_OBJECT_STORE',
    flag: '--store <url>',
    roles: [
      'block-builder',
      'compactor',
      'rollups',
      'event-store',
      'query',
      'rules',
      'replay',
      'import',
      'export',
    ],
    help: 'object store: file:///path, mem://, s3://bucket/prefix; empty means file://<data>/blocks',
  },
  {
    key: 's3.endpoint',
    kind: 'url',
    env: 'S3_ENDPOINT',
    flag: '--s3-endpoint <url>',
    roles: STORE_ROLES,
    help: 'S3 endpoint for s3:// stores (an endpoint= in the store URL wins); unset means AWS',
  },
  {
    key: 's3.region',
    kind: 'string',
    default: 'us-east-1',
    env: 'S3_REGION',
    flag: '--s3-region <region>',
    roles: STORE_ROLES,
    help: 'S3 region (a region= in the store URL wins)',
  },
  {
    key: 's3.accessKeyId',
    kind: 'string',
    env: 'S3_ACCESS_KEY_ID',
    help: "S3 access key id; with neither key set, the AWS SDK's default credential chain is used",
  },
  {
    key: 's3.secretAccessKey',
    kind: 'string',
    env: 'S3_SECRET_ACCESS_KEY',
    secret: true,
    help: 'S3 secret access key (never printed)',
  },
  {
    key: 's3.forcePathStyle',
    kind: 'bool',
    default: true,
    env: 'S3_FORCE_PATH_STYLE',
    help: 'address buckets as endpoint/bucket rather than bucket.endpoint (a path-style= in the URL wins)',
  },
  {
    key: 'blockBuilder.groupId',
    kind: 'string',
    default: 'promstream-block-builder',
    env: 'PROMSTREAM_BLOCK_BUILDER_GROUP',
    flag: '--group-id <id>',
    roles: ['block-builder'],
    help: 'consumer group of the block builders of one deployment',
  },
  {
    key: 'blockBuilder.blockDuration',
    kind: 'duration',
    default: 7_200_000,
    env: 'PROMSTREAM_BLOCK_DURATION',
    flag: '--block-duration <duration>',
    roles: [...PLACEMENT_ROLES, 'up'],
    min: 1000,
    max: MS_YEAR,
    help: 'aligned block range, e.g. 2h; the query head and replay must agree with the builder',
  },
  {
    key: 'blockBuilder.outOfOrderWindow',
    kind: 'duration',
    default: 600_000,
    env: 'PROMSTREAM_OUT_OF_ORDER_WINDOW',
    flag: '--out-of-order-window <duration>',
    roles: [...PLACEMENT_ROLES, 'gateway', 'up'],
    min: 0,
    max: MS_YEAR,
    help: 'how late a sample may be and still be placed; the gateway refuses older ones',
  },
  {
    key: 'blockBuilder.futureGrace',
    kind: 'duration',
    default: 600_000,
    env: 'PROMSTREAM_FUTURE_GRACE',
    flag: '--future-grace <duration>',
    roles: PLACEMENT_ROLES,
    min: 0,
    max: MS_YEAR,
    help: "how far past its record's time a sample may be",
  },
  {
    key: 'blockBuilder.deadLetterTopic',
    kind: 'string',
    default: 'promstream.deadletter.v1',
    env: 'PROMSTREAM_DEADLETTER_TOPIC',
    flag: '--dead-letter-topic <topic>',
    roles: ['block-builder'],
    help: 'where the records the block builder gives up on go',
  },
  {
    key: 'blockBuilder.sessionTimeout',
    kind: 'duration',
    default: 15_000,
    env: 'PROMSTREAM_BLOCK_BUILDER_SESSION_TIMEOUT',
    flag: '--session-timeout <duration>',
    roles: ['block-builder'],
    min: 1000,
    max: 3_600_000,
    help: "consumer-group session timeout: how soon a dead builder's partitions move to another",
  },
  {
    key: 'blockBuilder.backfillIdle',
    kind: 'duration',
    default: 600_000,
    env: 'PROMSTREAM_BACKFILL_IDLE',
    flag: '--backfill-idle <duration>',
    roles: PLACEMENT_ROLES,
    min: 1,
    max: MS_YEAR,
    help: 'log time a backfill range stays open after its last sample',
  },
  {
    key: 'blockBuilder.metricsPort',
    kind: 'port',
    env: 'PROMSTREAM_BLOCK_BUILDER_METRICS_PORT',
    flag: '--metrics-port <port>',
    roles: ['block-builder'],
    help: 'serve /metrics of the block builder on this port; unset: not served',
  },
  ...COMPACTOR_SETTINGS,
  ...RULES_SETTINGS,
  ...EVENT_STORE_SETTINGS,
  ...ROLLUPS_SETTINGS,
  ...roleListener('query', 9090, 'the Prometheus HTTP API'),
  {
    key: 'query.defaultTenant',
    kind: 'string',
    default: 'anonymous',
    env: 'PROMSTREAM_QUERY_DEFAULT_TENANT',
    flag: '--default-tenant <id>',
    roles: ['query'],
    help: 'tenant of requests without X-Scope-OrgID',
  },
  {
    key: 'query.readConsistencyTimeout',
    kind: 'duration',
    default: 10_000,
    env: 'PROMSTREAM_QUERY_READ_CONSISTENCY_TIMEOUT',
    flag: '--read-consistency-timeout <duration>',
    roles: ['query'],
    min: 1,
    max: MS_DAY,
    help: 'how long a query with X-Read-Consistency: strong waits for the log head',
  },
  {
    key: 'query.maxConcurrentQueries',
    kind: 'int',
    default: 20,
    env: 'PROMSTREAM_QUERY_MAX_CONCURRENT',
    flag: '--max-concurrent-queries <n>',
    roles: ['query'],
    min: 1,
    max: 10_000,
    help: 'queries evaluated at once; more wait in a queue',
  },
  {
    key: 'query.timeout',
    kind: 'duration',
    default: 120_000,
    env: 'PROMSTREAM_QUERY_TIMEOUT',
    flag: '--query-timeout <duration>',
    roles: ['query'],
    min: 1,
    max: MS_DAY,
    help: 'longest a query may run',
  },
  {
    key: 'query.maxSamples',
    kind: 'int',
    default: 50_000_000,
    env: 'PROMSTREAM_QUERY_MAX_SAMPLES',
    flag: '--max-samples <n>',
    roles: ['query'],
    min: 1,
    max: 2 ** 40,
    help: 'samples one query may hold at once',
  },
  {
    key: 'query.cacheBytes',
    kind: 'bytes',
    default: 256 * 1024 * 1024,
    env: 'PROMSTREAM_QUERY_CACHE_BYTES',
    flag: '--cache-bytes <n>',
    roles: ['query'],
    min: 0,
    max: 2 ** 45,
    help: 'memory for block index entries and chunks already read (0: read the store every time)',
  },
  {
    key: 'query.catalogRefresh',
    kind: 'duration',
    default: 30_000,
    env: 'PROMSTREAM_QUERY_CATALOG_REFRESH',
    flag: '--catalog-refresh <duration>',
    roles: ['query'],
    min: 1,
    max: MS_DAY,
    help: 'how often the block list is read again',
  },
  {
    key: 'query.autoDownsampling',
    kind: 'bool',
    default: false,
    env: 'PROMSTREAM_QUERY_AUTO_DOWNSAMPLING',
    flag: '--query.auto-downsampling',
    roles: ['query'],
    help: 'queries without max_source_resolution read downsampled blocks at step/5 (as Thanos)',
  },
  {
    key: 'query.tailLog',
    kind: 'bool',
    default: false,
    env: 'PROMSTREAM_QUERY_TAIL_LOG',
    flag: '--tail-log',
    roles: ['query'],
    help: 'also serve the log tail not yet in blocks, read from kafka.brokers with registryUrl',
  },
  {
    key: 'broker.dataDir',
    kind: 'path',
    default: '',
    env: 'PROMSTREAM_BROKER_DATA',
    flag: '--data <dir>',
    roles: ['broker'],
    help: 'directory of the log segments and broker state; empty means <dataDir>/log',
  },
  ...roleListener('broker', 9092, 'the Kafka protocol'),
  {
    key: 'broker.advertisedHost',
    kind: 'string',
    env: 'PROMSTREAM_BROKER_ADVERTISED_HOST',
    flag: '--advertised-host <host>',
    roles: ['broker'],
    help: 'host clients are told to connect to; unset: the listen host',
  },
  {
    key: 'broker.metricsPort',
    kind: 'port',
    env: 'PROMSTREAM_BROKER_METRICS_PORT',
    flag: '--metrics-port <port>',
    roles: ['broker'],
    help: 'serve /metrics of the broker on this port; unset: not served',
  },
  {
    key: 'broker.defaultPartitions',
    kind: 'int',
    default: 1,
    env: 'PROMSTREAM_BROKER_DEFAULT_PARTITIONS',
    flag: '--default-partitions <n>',
    roles: ['broker'],
    min: 1,
    max: 10_000,
    help: 'partitions of topics created on first use',
  },
  {
    key: 'broker.autoCreateTopics',
    kind: 'bool',
    default: true,
    env: 'PROMSTREAM_BROKER_AUTO_CREATE_TOPICS',
    flag: '--no-auto-create-topics',
    roles: ['broker'],
    help: 'create topics on first use rather than answer UNKNOWN_TOPIC_OR_PARTITION',
  },
  ...roleListener('registry', 8081, 'the registry REST API and /metrics'),
  {
    key: 'registry.topic',
    kind: 'string',
    default: '_schemas',
    env: 'PROMSTREAM_REGISTRY_TOPIC',
    flag: '--topic <topic>',
    roles: ['registry'],
    help: 'compacted topic holding the registry state',
  },
  {
    key: 'registry.writablePipelineSubjects',
    kind: 'bool',
    default: false,
    env: 'PROMSTREAM_REGISTRY_WRITABLE_PIPELINE_SUBJECTS',
    flag: '--writable-pipeline-subjects',
    roles: ['registry'],
    help: "let the pipeline's own subjects (promstream.*-value) be deleted and changed",
  },
  ...roleListener('gateway', 9091, 'remote write and /metrics'),
  {
    key: 'gateway.defaultTenant',
    kind: 'string',
    default: 'anonymous',
    env: 'PROMSTREAM_GATEWAY_DEFAULT_TENANT',
    flag: '--default-tenant <id>',
    roles: ['gateway'],
    help: 'tenant of requests without X-Scope-OrgID',
  },
  {
    key: 'gateway.tenantRate',
    kind: 'number',
    env: 'PROMSTREAM_GATEWAY_TENANT_RATE',
    flag: '--tenant-rate <samples/s>',
    roles: ['gateway'],
    min: Number.MIN_VALUE,
    max: Number.MAX_VALUE,
    help: 'ingestion rate per tenant in samples per second; unset: unlimited',
  },
  {
    key: 'gateway.tenantBurst',
    kind: 'number',
    env: 'PROMSTREAM_GATEWAY_TENANT_BURST',
    flag: '--tenant-burst <samples>',
    roles: ['gateway'],
    min: Number.MIN_VALUE,
    max: Number.MAX_VALUE,
    help: 'burst per tenant; unset: 10 s of the rate',
  },
  {
    key: 'gateway.maxDecompressedBytes',
    kind: 'bytes',
    default: 100 * 1024 * 1024,
    env: 'PROMSTREAM_GATEWAY_MAX_DECOMPRESSED_BYTES',
    flag: '--max-decompressed-bytes <bytes>',
    roles: ['gateway'],
    min: 1024,
    max: 2 ** 31,
    help: 'largest request body once decompressed',
  },
  {
    key: 'gateway.maxSeriesPerRequest',
    kind: 'int',
    default: 200_000,
    env: 'PROMSTREAM_GATEWAY_MAX_SERIES_PER_REQUEST',
    flag: '--max-series-per-request <n>',
    roles: ['gateway'],
    min: 1,
    max: 10_000_000,
    help: 'most series in one request',
  },
  {
    key: 'gateway.creationGracePeriod',
    kind: 'duration',
    default: 600_000,
    env: 'PROMSTREAM_GATEWAY_CREATION_GRACE_PERIOD',
    flag: '--creation-grace-period <duration>',
    roles: ['gateway'],
    min: 0,
    max: MS_YEAR,
    help: 'how far into the future a sample may be',
  },
  {
    key: 'gateway.pastWindow',
    kind: 'duration',
    env: 'PROMSTREAM_GATEWAY_PAST_WINDOW',
    flag: '--past-window <duration>',
    roles: ['gateway'],
    min: 0,
    max: 100 * MS_YEAR,
    help: 'how old a sample may be; unset: blockBuilder.outOfOrderWindow',
  },
  {
    key: 'gateway.tenants',
    kind: 'tenants',
    default: {},
    help: 'per-tenant overrides by tenant id: samplesPerSecond, burst, pastWindow, creationGracePeriod (file only)',
  },
  ...roleListener('agent', 9100, '/metrics and the local query API'),
  ...AGENT_SETTINGS,
  ...roleListener('up', 9090, 'the all-in-one (remote write and PromQL)'),
  {
    key: 'up.kafkaPort',
    kind: 'port',
    default: 9092,
    env: 'PROMSTREAM_UP_KAFKA_PORT',
    flag: '--kafka-port <port>',
    roles: ['up'],
    help: 'Kafka protocol port of the all-in-one broker (on 127.0.0.1)',
  },
  {
    key: 'up.registryPort',
    kind: 'port',
    default: 8081,
    env: 'PROMSTREAM_UP_REGISTRY_PORT',
    flag: '--registry-port <port>',
    roles: ['up'],
    help: 'port of the all-in-one schema registry (on 127.0.0.1; 8081 as Confluent)',
  },
  {
    key: 'up.agent',
    kind: 'bool',
    default: true,
    env: 'PROMSTREAM_UP_AGENT',
    flag: '--no-agent',
    roles: ['up'],
    help: 'run the local node agent in the all-in-one',
  },
];

/** The `host` and `port` settings of a role that listens. */
function roleListener(section: ConfigRole, port: number, what: string): Setting[] {
  const prefix = `PROMSTREAM_${section.toUpperCase()}`;
  return [
    {
      key: `${section}.host`,
      kind: 'string',
      default: '127.0.0.1',
      env: `${prefix}_HOST`,
      flag: '--host <host>',
      roles: [section],
      help: `address ${what} listens on`,
    },
    {
      key: `${section}.port`,
      kind: 'port',
      default: port,
      env: `${prefix}_PORT`,
      flag: '--port <port>',
      roles: [section],
      help: `port of ${what} (0: any free port)`,
    },
  ];
}

/** The settings a role takes as flags. */
export function roleSettings(role: ConfigRole): Setting[] {
  return SETTINGS.filter((s) => s.flag !== undefined && s.roles?.includes(role) === true);
}

/** commander's attribute name of a flag: `--no-kernel-log` is `kernelLog`, `--max-samples <n>` is `maxSamples`. */
export function flagAttribute(flag: string): string {
  const name = flag.split(' ')[0]!.replace(/^--(no-)?/, '');
  return name.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
}

/** A default as people write it: durations as `10m`, sizes as `256MiB`, the rest as JSON. */
export function shownValue(s: Setting, value: unknown): string {
  if (typeof value === 'number' && s.kind === 'duration') {
    const units: [number, string][] = [
      [86_400_000, 'd'],
      [3_600_000, 'h'],
      [60_000, 'm'],
      [1000, 's'],
    ];
    const [size, unit] = units.find(([size]) => value > 0 && value % size === 0) ?? [1, 'ms'];
    return `${value / size}${unit}`;
  }
  if (typeof value === 'number' && s.kind === 'bytes') {
    const units: [number, string][] = [
      [1024 ** 3, 'GiB'],
      [1024 ** 2, 'MiB'],
      [1024, 'KiB'],
    ];
    const [size, unit] = units.find(([size]) => value > 0 && value % size === 0) ?? [1, ''];
    return `${value / size}${unit}`;
  }
  return JSON.stringify(value);
}
