import { parseDuration } from '@promstream/storage';
import { invalidParam } from './errors.js';

/**
 * Parsing of the API's parameters with Prometheus' rules and wording:
 * times are float seconds or RFC 3339, durations are float seconds or
 * Prometheus durations (`1h30m`).
 */

/** One request's parameters: form body values first, then the URL's, as Go's `r.FormValue`. */
export type Params = Record<string, string | string[] | undefined>;

/** The smallest and largest times the API accepts, as Prometheus' `MinTime`/`MaxTime` in milliseconds. */
export const MIN_TIME = Math.trunc(-(2 ** 63) / 1000) + 62135596801;
export const MAX_TIME = Math.trunc(2 ** 63 / 1000) - 62135596801;

// Prometheus prints these for its open-ended defaults; clients echo them back.
const MIN_TIME_TEXT = '-292273086-05-16T16:47:06Z';
const MAX_TIME_TEXT = '292277025-08-18T07:12:54.999999999Z';

const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** The single value of a parameter (the first when it repeats), or undefined. */
export function single(params: Params, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Every value of a repeated parameter such as `match[]`. */
export function many(params: Params, name: string): string[] {
  const v = params[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Parses a timestamp to milliseconds, or returns undefined when the text is not one. */
export function parseTimeText(text: string): number | undefined {
  if (FLOAT_RE.test(text)) {
    const seconds = Number(text);
    if (!Number.isFinite(seconds)) return undefined;
    const whole = Math.trunc(seconds);
    // Prometheus keeps millisecond precision: it rounds the fraction to 3 digits.
    const ms = whole * 1000 + Math.round((seconds - whole) * 1000);
    if (ms < MIN_TIME || ms > MAX_TIME) return undefined;
    return ms;
  }
  if (text === MIN_TIME_TEXT) return MIN_TIME;
  if (text === MAX_TIME_TEXT) return MAX_TIME;
  const m = RFC3339_RE.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59)
    return undefined;
  const base = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  if (new Date(base).getUTCDate() !== day) return undefined;
  const fracMs = frac === undefined ? 0 : Math.floor(Number(`0${frac}`) * 1000 + 1e-6);
  let offset = 0;
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  return base + fracMs - offset;
}

/** A time parameter in milliseconds; `fallback` when absent or empty. */
export function timeParam(params: Params, name: string, fallback: number): number {
  const text = single(params, name);
  if (text === undefined || text === '') return fallback;
  const ms = parseTimeText(text);
  if (ms === undefined) throw invalidParam(name, `cannot parse ${JSON.stringify(text)} to a valid timestamp`);
  return ms;
}

/** Parses a duration to milliseconds, or returns a reason it is not one. */
export function parseDurationText(text: string): number | string {
  if (FLOAT_RE.test(text)) {
    const ms = Number(text) * 1000;
    // A Go time.Duration counts nanoseconds in an int64.
    if (!Number.isFinite(ms) || Math.abs(ms) > 2 ** 63 / 1e6)
      return `cannot parse ${JSON.stringify(text)} to a valid duration. It overflows int64`;
    return Math.round(ms);
  }
  return parseDuration(text) ?? `cannot parse ${JSON.stringify(text)} to a valid duration`;
}

/** A duration parameter in milliseconds, or undefined when absent or empty. */
export function durationParam(params: Params, name: string): number | undefined {
  const text = single(params, name);
  if (text === undefined || text === '') return undefined;
  const ms = parseDurationText(text);
  if (typeof ms === 'string') throw invalidParam(name, ms);
  return ms;
}

/** The `limit` parameter: a non-negative integer, 0 (or absent) meaning no limit. */
export function limitParam(params: Params, name = 'limit'): number {
  const text = single(params, name);
  if (text === undefined || text === '') return 0;
  if (!/^[+-]?\d+$/.test(text))
    throw invalidParam(name, `cannot parse ${JSON.stringify(text)} to a valid limit`);
  const n = Number(text);
  if (n < 0) throw invalidParam(name, 'limit must be non-negative');
  return n;
}
