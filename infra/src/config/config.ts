import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDurationSetting } from '@promstream/storage';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';

/**
 * The configuration of every role. Sources, later ones winning: built-in
 * defaults, a YAML file (`--config` or PROMSTREAM_CONFIG), environment
 * variables, then command-line flags. `loadConfig` validates the result and
 * reports every bad value at once, by its path in the file.
 */
export interface PromstreamConfig {
  /** Where the all-in-one keeps its data (broker segments, blocks). */
  dataDir: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  kafka: {
    /** host:port of each bootstrap broker. */
    brokers: string[];
    /** Partitions of the samples topic when it is created. */
    samplesPartitions: number;
  };
  /** The schema registry URL (Confluent REST API). */
  registryUrl: string;
  /** Object store URL: file:///path, mem://, or s3://bucket/prefix. */
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
  };
  query: {
    host: string;
    port: number;
    /** How long a `X-Read-Consistency: strong` query waits for the head (ms). */
    readConsistencyTimeout: number;
    defaultTenant: string;
  };
  broker: { host: string; port: number };
  registry: { host: string; port: number };
  gateway: GatewayConfig;
}

/**
 * What one tenant may send, where it differs from the gateway's defaults:
 * its ingestion rate and the window of its sample timestamps.
 */
export interface TenantOverrides {
  /** Samples per second (with burst); absent means the gateway's --tenant-rate. */
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

/** Settings whose keys are names chosen by the user (tenant ids), not fixed fields. */
const OPEN_MAPS: ReadonlySet<string> = new Set(['gateway.tenants']);

/** The defaults: the all-in-one on one machine, data under ./data. */
export function defaultConfig(): PromstreamConfig {
  return {
    dataDir: './data',
    logLevel: 'info',
    kafka: { brokers: ['127.0.0.1:9092'], samplesPartitions: 4 },
    registryUrl: 'http://127.0.0.1:8081',
    objectStore: '',
    s3: { region: 'us-east-1', forcePathStyle: true },
    blockBuilder: {
      groupId: 'promstream-block-builder',
      blockDuration: 7_200_000,
      outOfOrderWindow: 600_000,
      futureGrace: 600_000,
      backfillIdle: 600_000,
    },
    query: { host: '127.0.0.1', port: 9090, readConsistencyTimeout: 10_000, defaultTenant: 'anonymous' },
    broker: { host: '127.0.0.1', port: 9092 },
    registry: { host: '127.0.0.1', port: 8081 },
    gateway: {
      host: '127.0.0.1',
      port: 9091,
      maxDecompressedBytes: 100 * 1024 * 1024,
      maxSeriesPerRequest: 200_000,
      creationGracePeriod: 600_000,
      tenants: {},
    },
  };
}

/** Environment variables and the config path each one sets. */
export const ENV_OVERRIDES: Record<string, string> = {
  PROMSTREAM_DATA: 'dataDir',
  PROMSTREAM_LOG_LEVEL: 'logLevel',
  KAFKA_BROKERS: 'kafka.brokers',
  SCHEMA_REGISTRY_URL: 'registryUrl',
  PROMSTREAM_OBJECT_STORE: 'objectStore',
  S3_ENDPOINT: 's3.endpoint',
  S3_REGION: 's3.region',
  S3_ACCESS_KEY_ID: 's3.accessKeyId',
  S3_SECRET_ACCESS_KEY: 's3.secretAccessKey',
  PROMSTREAM_BLOCK_DURATION: 'blockBuilder.blockDuration',
  PROMSTREAM_OUT_OF_ORDER_WINDOW: 'blockBuilder.outOfOrderWindow',
  PROMSTREAM_FUTURE_GRACE: 'blockBuilder.futureGrace',
  PROMSTREAM_BACKFILL_IDLE: 'blockBuilder.backfillIdle',
};

/** Where a config comes from, for `loadConfig`. */
export interface ConfigSources {
  /** A YAML file; its absence is an error only when given. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values by config path (`query.port`), strings or already-typed values. */
  flags?: Record<string, unknown>;
}

/** Loads, merges and validates the configuration; throws a ConfigError listing every problem. */
export function loadConfig(sources: ConfigSources = {}): PromstreamConfig {
  const env = sources.env ?? process.env;
  const raw = defaultConfig() as unknown as Record<string, unknown>;
  const file = sources.file ?? env.PROMSTREAM_CONFIG;
  const problems: string[] = [];
  if (file !== undefined && file !== '') {
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
      throw new ConfigError('config_file', `parse config file ${file}: ${(err as Error).message}`, [], {
        cause: err,
      });
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc))
        throw new ConfigError('config_file', `config file ${file}: expected a mapping at the top level`);
      mergeInto(raw, doc as Record<string, unknown>, '', problems);
    }
  }
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, key, value);
  }
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value !== undefined) setPath(raw, key, value);
  }
  const config = validate(raw, problems);
  if (problems.length > 0) throw new ConfigError('config_invalid', 'invalid configuration', problems);
  return config;
}

function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  prefix: string,
  problems: string[],
) {
  for (const [key, value] of Object.entries(source)) {
    const where = prefix + key;
    if (!(key in target)) {
      problems.push(`${where}: unknown setting`);
      continue;
    }
    const current = target[key];
    if (OPEN_MAPS.has(where)) {
      if (!isPlainObject(value)) problems.push(`${where}: expected a mapping`);
      else target[key] = value;
    } else if (isPlainObject(current) && !Array.isArray(current)) {
      if (!isPlainObject(value)) problems.push(`${where}: expected a mapping`);
      else mergeInto(current, value, `${where}.`, problems);
    } else target[key] = value;
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

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

function validate(raw: Record<string, unknown>, problems: string[]): PromstreamConfig {
  const get = (key: string): unknown =>
    key.split('.').reduce<unknown>((node, part) => (isPlainObject(node) ? node[part] : undefined), raw);
  const str = (key: string, optional = false): string => {
    const v = get(key);
    if (v === undefined && optional) return undefined as unknown as string;
    if (typeof v !== 'string' && typeof v !== 'number') {
      problems.push(`${key}: expected a string, got ${JSON.stringify(v)}`);
      return '';
    }
    return String(v);
  };
  const int = (key: string, min: number, max: number): number => {
    const v = get(key);
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return min;
    }
    return n;
  };
  const dur = (key: string, min: number): number => {
    const v = get(key);
    const n = typeof v === 'number' ? v : typeof v === 'string' ? parseDurationSetting(v) : undefined;
    if (n === undefined || !(n >= min)) {
      problems.push(
        `${key}: expected a duration of at least ${min} ms such as 2h, 15m, 30s, got ${JSON.stringify(v)}`,
      );
      return min;
    }
    return n;
  };
  const bool = (key: string): boolean => {
    const v = get(key);
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    problems.push(`${key}: expected true or false, got ${JSON.stringify(v)}`);
    return false;
  };
  const url = (key: string, schemes: string[], allowEmpty = false): string => {
    const v = str(key);
    if (v === '' && allowEmpty) return v;
    try {
      const u = new URL(v);
      if (!schemes.includes(u.protocol.replace(/:$/, '')))
        problems.push(`${key}: scheme must be one of ${schemes.join(', ')}, got ${JSON.stringify(v)}`);
    } catch {
      problems.push(`${key}: not a URL: ${JSON.stringify(v)}`);
    }
    return v;
  };
  const brokersRaw = get('kafka.brokers');
  const brokers = (
    typeof brokersRaw === 'string' ? brokersRaw.split(',') : Array.isArray(brokersRaw) ? brokersRaw : []
  )
    .map((b) => String(b).trim())
    .filter((b) => b !== '');
  if (brokers.length === 0)
    problems.push(`kafka.brokers: expected host:port, got ${JSON.stringify(brokersRaw)}`);
  brokers.forEach((b, i) => {
    if (!/^[^\s:]+:\d{1,5}$/.test(b))
      problems.push(`kafka.brokers[${i}]: expected host:port, got ${JSON.stringify(b)}`);
  });
  const logLevel = str('logLevel') as PromstreamConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`logLevel: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const dataDir = path.resolve(str('dataDir'));
  const endpoint = get('s3.endpoint');
  return {
    dataDir,
    logLevel,
    kafka: { brokers, samplesPartitions: int('kafka.samplesPartitions', 1, 10_000) },
    registryUrl: url('registryUrl', ['http', 'https']),
    objectStore: url('objectStore', ['file', 'mem', 's3'], true),
    s3: {
      endpoint: endpoint === undefined ? undefined : url('s3.endpoint', ['http', 'https']),
      region: str('s3.region'),
      accessKeyId: str('s3.accessKeyId', true),
      secretAccessKey: str('s3.secretAccessKey', true),
      forcePathStyle: bool('s3.forcePathStyle'),
    },
    blockBuilder: {
      groupId: str('blockBuilder.groupId'),
      blockDuration: dur('blockBuilder.blockDuration', 1000),
      outOfOrderWindow: dur('blockBuilder.outOfOrderWindow', 0),
      futureGrace: dur('blockBuilder.futureGrace', 0),
      backfillIdle: dur('blockBuilder.backfillIdle', 1),
    },
    query: {
      host: str('query.host'),
      port: int('query.port', 0, 65535),
      readConsistencyTimeout: dur('query.readConsistencyTimeout', 1),
      defaultTenant: str('query.defaultTenant'),
    },
    broker: { host: str('broker.host'), port: int('broker.port', 0, 65535) },
    registry: { host: str('registry.host'), port: int('registry.port', 0, 65535) },
    gateway: {
      host: str('gateway.host'),
      port: int('gateway.port', 0, 65535),
      maxDecompressedBytes: int('gateway.maxDecompressedBytes', 1024, 2 ** 31),
      maxSeriesPerRequest: int('gateway.maxSeriesPerRequest', 1, 10_000_000),
      creationGracePeriod: dur('gateway.creationGracePeriod', 0),
      pastWindow: get('gateway.pastWindow') === undefined ? undefined : dur('gateway.pastWindow', 0),
      tenants: tenantOverrides(get('gateway.tenants'), problems),
    },
  };
}

const TENANT_SETTINGS = ['samplesPerSecond', 'burst', 'pastWindow', 'creationGracePeriod'] as const;

/** Validates `gateway.tenants`: a mapping of tenant id to overrides. */
function tenantOverrides(raw: unknown, problems: string[]): Record<string, TenantOverrides> {
  const out: Record<string, TenantOverrides> = {};
  if (raw === undefined || raw === null) return out;
  if (!isPlainObject(raw)) {
    problems.push(`gateway.tenants: expected a mapping of tenant id to settings`);
    return out;
  }
  for (const [tenant, settings] of Object.entries(raw)) {
    const where = `gateway.tenants.${tenant}`;
    if (!isPlainObject(settings)) {
      problems.push(`${where}: expected a mapping`);
      continue;
    }
    const o: TenantOverrides = {};
    for (const [key, value] of Object.entries(settings)) {
      if (!(TENANT_SETTINGS as readonly string[]).includes(key)) {
        problems.push(`${where}.${key}: unknown setting`);
        continue;
      }
      if (key === 'samplesPerSecond' || key === 'burst') {
        const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
        if (typeof n !== 'number' || !(n > 0))
          problems.push(`${where}.${key}: expected a positive number, got ${JSON.stringify(value)}`);
        else o[key] = n;
      } else {
        const n =
          typeof value === 'number'
            ? value
            : typeof value === 'string'
              ? parseDurationSetting(value)
              : undefined;
        if (n === undefined || !(n >= 0))
          problems.push(`${where}.${key}: expected a duration such as 10m, 1h, got ${JSON.stringify(value)}`);
        else o[key as 'pastWindow' | 'creationGracePeriod'] = n;
      }
    }
    out[tenant] = o;
  }
  return out;
}

/** The object store URL a config means: the explicit one, else the data directory's blocks folder. */
export function objectStoreUrl(config: PromstreamConfig): string {
  if (config.objectStore !== '') return config.objectStore;
  return `file://${path.join(config.dataDir, 'blocks')}`;
}
