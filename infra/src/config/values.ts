import { parseDurationSetting } from '@promstream/storage';
import type { TenantOverrides } from './config.js';
import type { Setting } from './schema.js';

/** A value that does not fit its setting, said in one phrase. */
export interface Problem {
  problem: string;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/**
 * Reads one value of a setting from a YAML value or a string (environment,
 * flags): the typed value, or the problem with it. Strings and YAML scalars
 * read alike, so a value means the same wherever it is written.
 */
export function parseValue(s: Setting, raw: unknown): unknown {
  const got = `got ${JSON.stringify(raw)}`;
  const text = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : undefined;
  switch (s.kind) {
    case 'string':
    case 'path':
      return text === undefined ? { problem: `expected a string, ${got}` } : text;
    case 'level':
      return text !== undefined && LOG_LEVELS.includes(text)
        ? text
        : { problem: `expected one of ${LOG_LEVELS.join(', ')}, ${got}` };
    case 'url':
      return url(text, ['http', 'https'], got);
    case 'store-url':
      return text === '' ? '' : url(text, ['file', 'mem', 's3'], got);
    case 'port':
      return (
        inRange(text === undefined ? undefined : Number(text), 0, 65535, true) ?? {
          problem: `expected a port from 0 to 65535, ${got}`,
        }
      );
    case 'int':
      return (
        inRange(text === undefined ? undefined : Number(text), s.min ?? 0, s.max ?? 2 ** 53, true) ?? {
          problem: `expected a whole number from ${s.min} to ${s.max}, ${got}`,
        }
      );
    case 'number':
      return (
        inRange(text === undefined ? undefined : Number(text), s.min ?? 0, s.max ?? 2 ** 53, false) ?? {
          problem: `expected a number above 0, ${got}`,
        }
      );
    case 'bytes':
      return (
        inRange(text === undefined ? undefined : bytes(text), s.min ?? 0, s.max ?? 2 ** 53, true) ?? {
          problem: `expected a size from ${s.min} to ${s.max} bytes such as 256MiB, ${got}`,
        }
      );
    case 'duration':
      return (
        inRange(duration(text), s.min ?? 0, s.max ?? 2 ** 53, true) ?? {
          problem: `expected a duration from ${s.min} ms such as 2h, 15m, 30s, 500ms, ${got}`,
        }
      );
    case 'bool':
      if (raw === true || text === 'true') return true;
      if (raw === false || text === 'false') return false;
      return { problem: `expected true or false, ${got}` };
    case 'brokers':
      return brokers(raw, got);
    case 'pairs':
      return pairs(raw, got);
    case 'tenants':
      return { problem: 'a mapping of tenant settings' };
  }
}

function inRange(n: number | undefined, min: number, max: number, whole: boolean): number | undefined {
  if (n === undefined || !Number.isFinite(n) || n < min || n > max) return undefined;
  if (whole && !Number.isInteger(n)) return undefined;
  return n;
}

function url(text: string | undefined, schemes: string[], got: string): string | Problem {
  if (text === undefined) return { problem: `expected a URL, ${got}` };
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { problem: `not a URL, ${got}` };
  }
  if (!schemes.includes(u.protocol.replace(/:$/, '')))
    return { problem: `scheme must be one of ${schemes.join(', ')}, ${got}` };
  return text;
}

function duration(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDurationSetting(text);
}

function bytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
  const factor = m === null ? undefined : BYTE_UNITS[m[2]!.toLowerCase()];
  return m === null || factor === undefined ? undefined : Math.round(Number(m[1]) * factor);
}

function list(raw: unknown): string[] | undefined {
  if (typeof raw === 'string')
    return raw
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== '');
  if (Array.isArray(raw) && raw.every((b) => typeof b === 'string' || typeof b === 'number'))
    return raw.map((b) => String(b).trim()).filter((b) => b !== '');
  return undefined;
}

function brokers(raw: unknown, got: string): string[] | Problem {
  const all = list(raw);
  if (all === undefined || all.length === 0) return { problem: `expected host:port,..., ${got}` };
  const bad = all.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b));
  return bad === undefined ? all : { problem: `expected host:port, got ${JSON.stringify(bad)}` };
}

function pairs(raw: unknown, got: string): string[] | Problem {
  const all = list(raw);
  if (all === undefined) return { problem: `expected a list of name=value, ${got}` };
  const bad = all.find((p) => p.indexOf('=') <= 0);
  return bad === undefined ? all : { problem: `expected name=value, got ${JSON.stringify(bad)}` };
}

const TENANT_SETTINGS = ['samplesPerSecond', 'burst', 'pastWindow', 'creationGracePeriod'] as const;

/** Validates `gateway.tenants`: a mapping of tenant id to overrides. */
export function checkTenants(raw: unknown, key: string, problems: string[]): Record<string, TenantOverrides> {
  const out: Record<string, TenantOverrides> = {};
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${key}: expected a mapping of tenant id to settings`);
    return out;
  }
  for (const [tenant, settings] of Object.entries(raw as Record<string, unknown>)) {
    const where = `${key}.${tenant}`;
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
      problems.push(`${where}: expected a mapping`);
      continue;
    }
    const o: TenantOverrides = {};
    for (const [name, value] of Object.entries(settings as Record<string, unknown>)) {
      if (!(TENANT_SETTINGS as readonly string[]).includes(name)) {
        problems.push(`${where}.${name}: unknown setting`);
        continue;
      }
      const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
      if (name === 'samplesPerSecond' || name === 'burst') {
        const n = text === '' ? Number.NaN : Number(text);
        if (!(n > 0))
          problems.push(`${where}.${name}: expected a positive number, got ${JSON.stringify(value)}`);
        else o[name] = n;
      } else {
        const n = duration(text);
        if (n === undefined)
          problems.push(
            `${where}.${name}: expected a duration such as 10m, 1h, got ${JSON.stringify(value)}`,
          );
        else o[name as 'pastWindow' | 'creationGracePeriod'] = n;
      }
    }
    out[tenant] = o;
  }
  return out;
}
