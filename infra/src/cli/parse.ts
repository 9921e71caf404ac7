import { parseDurationSetting } from '@promstream/storage';

/**
 * Parsers for command-line values shared by the roles. Each throws an Error
 * whose message names the bad value; commander prints it and exits non-zero.
 */

/** A TCP port, 0 to 65535 (0 lets the system pick). */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`port ${value}: not a number between 0 and 65535`);
  return n;
}

/** A whole number of at least 1 (counts, partitions, limits). */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${value}: not a positive whole number`);
  return n;
}

/** A number above 0 (rates). */
export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${value}: not a positive number`);
  return n;
}

/** A whole number of 0 or more (sizes where 0 turns a feature off). */
export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${value}: not a whole number of 0 or more`);
  return n;
}

/** A duration flag such as `2m`, `1h30m`, `500ms` or `1d`, in milliseconds, above 0. */
export function parseDurationFlag(value: string): number {
  const ms = parseDurationSetting(value);
  if (ms === undefined || ms <= 0)
    throw new Error(`duration ${value}: expected a number with ms, s, m, h or d (e.g. 2m)`);
  return ms;
}
