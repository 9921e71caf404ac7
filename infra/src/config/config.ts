import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';
import { SETTINGS, type Setting } from './schema.js';
import { checkTenants, parseValue } from './values.js';

/**
 * The configuration of every role, as `SETTINGS` (schema.ts) describes it.
 * Sources, later ones winning: the built-in defaults, a YAML file (`--config`
 * or PROMSTREAM_CONFIG), environment variables, then command-line flags.
 * `loadConfig` validates the result and reports every bad value at once, each
 * on one line naming its key and where the value came from.
 */
export interface PromstreamConfig {
  /** Where the roles keep local data (agent buffer, default blocks folder). */
  dataDir: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  kafka: {
    /** host:port of each bootstrap broker. */
    brokers: string[];
    samplesTopic: string;
    /** Partitions of the samples topic when it is created. */
    samplesPartitions: number;
    /** Where recorded series and ALERTS go; the query head tails it too (empty: not tailed). */
    derivedTopic: string;
  };
  /** The schema registry URL (Confluent REST API). */
  registryUrl: string;
  /** Object store URL: file:///path, mem://, or s3://bucket/prefix; empty: `<dataDir>/blocks`. */
  objectStore: string;
  s3: {
    endpoint?: string;
    region: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    forcePathStyle: boolean;
  };
  blockBuilder: {
    groupId: string;
    /** Block duration in ms. */
    blockDuration: number;
    /** Out-of-order window in ms. */
    outOfOrderWindow: number;
    /** How far past its record's timestamp a sample may be, ms (Mimir's creation grace period). */
    futureGrace: number;
    /** Log time a backfill range stays open after its last sample, ms. */
    backfillIdle: number;
    /** Where records the builder gives up on go. */
    deadLetterTopic: string;
    /** Consumer-group session timeout, ms. */
    sessionTimeout: number;
    metricsPort?: number;
  };
  compactor: CompactorConfig;
  rules: RulesConfig;
  eventStore: EventStoreConfig;
  rollups: {
    /** The rollup rules file; empty: none. */
    configFile: string;
    name: string;
    /** Log time a window stays open after its end, ms. */
    lateness: number;
    metricsPort?: number;
  };
  query: {
    host: string;
    port: number;
    defaultTenant: string;
    /** How long a `X-Read-Consistency: strong` query waits for the head (ms). */
    readConsistencyTimeout: number;
    maxConcurrentQueries: number;
    /** Longest a query may run, ms. */
    timeout: number;
    maxSamples: number;
    cacheBytes: number;
    /** How often the block list is read again, ms. */
    catalogRefresh: number;
    /** Whether to tail the log into a head (with kafka.brokers and registryUrl). */
    tailLog: boolean;
    /** Whether queries without max_source_resolution read at `auto` (Thanos' --query.auto-downsampling). */
    autoDownsampling: boolean;
  };
  broker: {
    /** Segment directory; empty means `<dataDir>/log`. */
    dataDir: string;
    host: string;
    port: number;
    advertisedHost?: string;
    metricsPort?: number;
    defaultPartitions: number;
    autoCreateTopics: boolean;
  };
  registry: { host: string; port: number; topic: string; writablePipelineSubjects: boolean };
  gateway: GatewayConfig;
  agent: AgentConfig;
  up: UpConfig;
}

/**
 * The all-in-one's own settings; it also takes dataDir, logLevel and the
 * block builder's blockDuration and outOfOrderWindow, which it hands to its roles.
 */
export interface UpConfig {
  /** Where remote write and PromQL are served. */
  host: string;
  port: number;
  /** Ports of the embedded broker and registry, on 127.0.0.1. */
  kafkaPort: number;
  registryPort: number;
  /** Whether the local node agent runs. */
  agent: boolean;
}

/** The event store's settings; durations in ms, 0 retention keeps forever. */
export interface EventStoreConfig {
  topic: string;
  groupId: string;
  defaultTenant: string;
  maxSegmentBytes: number;
  maxSegmentAge: number;
  retention: number;
  derivedTopic: string;
  metricsPort?: number;
}

/** The compactor's settings; durations in ms, 0 retention keeps forever. */
export interface CompactorConfig {
  once: boolean;
  retentionRaw: number;
  retention5m: number;
  retention1h: number;
  /** Comma-separated durations, the smallest first. */
  levels: string;
  downsamplingDisable: boolean;
  downsample5mFrom: number;
  downsample1hFrom: number;
  deleteDelay: number;
  partialUploadDelay: number;
  waitInterval: number;
  leaseTtl: number;
  metricsPort?: number;
}

/** The rules role's settings; durations in ms. */
export interface RulesConfig {
  /** Comma-separated globs of the default tenant's rule files. */
  files: string;
  /** A folder per tenant, named for it. */
  dir: string;
  tenant: string;
  host: string;
  port: number;
  evaluationInterval: number;
  queryOffset: number;
  outageTolerance: number;
  forGracePeriod: number;
  resendDelay: number;
  readTimeout: number;
  /** Comma-separated Alertmanager base URLs. */
  alertmanagerUrl: string;
  externalUrl: string;
}

/**
 * What one tenant may send, where it differs from the gateway's defaults:
 * its ingestion rate and the window of its sample timestamps.
 */
export interface TenantOverrides {
  /** Samples per second (with burst); absent means gateway.tenantRate. */
  samplesPerSecond?: number;
  burst?: number;
  /** How far into the past a sample may be, in ms. */
  pastWindow?: number;
  /** How far into the future a sample may be, in ms. */
  creationGracePeriod?: number;
}

/** The remote-write gateway's settings. */
export interface GatewayConfig {
  host: string;
  port: number;
  defaultTenant: string;
  /** Samples per second per tenant; absent: unlimited. */
  tenantRate?: number;
  /** Burst per tenant; absent: 10 s of the rate. */
  tenantBurst?: number;
  /** Largest body once decompressed, in bytes (Mimir's max_recv_msg_size). */
  maxDecompressedBytes: number;
  maxSeriesPerRequest: number;
  /** How far into the future a sample may be, in ms (Mimir's creation_grace_period). */
  creationGracePeriod: number;
  /** How far into the past a sample may be, in ms; absent means blockBuilder.outOfOrderWindow. */
  pastWindow?: number;
  /** Per-tenant overrides, by tenant id. */
  tenants: Record<string, TenantOverrides>;
}

/** The node agent's settings. */
export interface AgentConfig {
  host: string;
  port: number;
  hostname?: string;
  tenant: string;
  /** Collection interval, ms. */
  interval: number;
  bufferBytes: number;
  /** `job=url` pairs. */
  scrape: string[];
  /** `name=command` pairs. */
  plugins: string[];
  kernelLog: boolean;
}

/** Where a config comes from, for `loadConfig`. */
export interface ConfigSources {
  /** A YAML file; its absence is an error only when given. */
  file?: string;
  /** The environment; the CLI passes process.env, tests pass their own. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by config key (`query.port`), strings or already-typed values. */
  flags?: Record<string, unknown>;
  /** How each flag was spelled, by config key, for messages (`--port`). */
  flagNames?: Record<string, string>;
}

/** The environment variable naming the config file. */
export const CONFIG_FILE_ENV = 'PROMSTREAM_CONFIG';

/** The defaults: the all-in-one on one machine, data under ./data. */
export function defaultConfig(): PromstreamConfig {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) setPath(out, s.key, structuredClone(s.default));
  return out as unknown as PromstreamConfig;
}

/** Loads, merges and validates the configuration; throws a ConfigError listing every problem. */
export function loadConfig(sources: ConfigSources = {}): PromstreamConfig {
  const env = sources.env ?? {};
  const file = sources.file ?? env[CONFIG_FILE_ENV];
  const problems: string[] = [];
  const given = new Map<string, { value: unknown; origin: string }>();
  if (file !== undefined && file !== '') {
    const doc = readYaml(file);
    collectFile(doc, '', file, given, problems);
  }
  for (const s of SETTINGS) {
    const value = s.env === undefined ? undefined : env[s.env];
    if (value !== undefined && value !== '') given.set(s.key, { value, origin: `env ${s.env}` });
  }
  const byKey = new Map(SETTINGS.map((s) => [s.key, s]));
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    if (!byKey.has(key)) {
      problems.push(`${key}: unknown setting`);
      continue;
    }
    const flag = sources.flagNames?.[key] ?? byKey.get(key)?.flag?.split(' ')[0] ?? key;
    given.set(key, { value, origin: `flag ${flag}` });
  }
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const g = given.get(s.key);
    const value = g === undefined ? structuredClone(s.default) : check(s, g, problems);
    setPath(out, s.key, value);
  }
  const config = out as unknown as PromstreamConfig;
  config.dataDir = path.resolve(config.dataDir);
  if (problems.length > 0) throw new ConfigError('config_invalid', 'invalid configuration', problems);
  return config;
}

function check(s: Setting, g: { value: unknown; origin: string }, problems: string[]): unknown {
  if (s.kind === 'tenants') return checkTenants(g.value, s.key, problems);
  const r = parseValue(s, g.value);
  if (typeof r === 'object' && r !== null && 'problem' in r) {
    problems.push(`${s.key}: ${r.problem} (from ${g.origin})`);
    return structuredClone(s.default);
  }
  return r;
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('config_file', `read config file ${file}: ${(err as Error).message}`, [], {
      cause: err,
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const first = String((err as Error).message).split('\n')[0];
    throw new ConfigError('config_file', `parse config file ${file}: ${first}`, [], { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (!isPlainObject(doc))
    throw new ConfigError('config_file', `config file ${file}: expected a mapping at the top level`);
  return doc;
}

/** Walks the file's mapping: each leaf must be a setting of the schema, each inner node a section. */
function collectFile(
  node: unknown,
  prefix: string,
  file: string,
  given: Map<string, { value: unknown; origin: string }>,
  problems: string[],
): void {
  for (const [name, value] of Object.entries(node as Record<string, unknown>)) {
    const key = prefix + name;
    if (SETTINGS.some((s) => s.key === key)) {
      if (value !== null) given.set(key, { value, origin: `file ${file}` });
    } else if (SETTINGS.some((s) => s.key.startsWith(`${key}.`))) {
      if (!isPlainObject(value)) problems.push(`${key}: expected a mapping (in file ${file})`);
      else collectFile(value, `${key}.`, file, given, problems);
    } else problems.push(`${key}: unknown setting (in file ${file})`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/** The object store URL a config means: the explicit one, else the data directory's blocks folder. */
export function objectStoreUrl(config: PromstreamConfig): string {
  if (config.objectStore !== '') return config.objectStore;
  return `file://${path.join(config.dataDir, 'blocks')}`;
}

/** The broker's segment directory: broker.dataDir, else `<dataDir>/log`. */
export function brokerDataDir(config: PromstreamConfig): string {
  return config.broker.dataDir !== ''
    ? path.resolve(config.broker.dataDir)
    : path.join(config.dataDir, 'log');
}
