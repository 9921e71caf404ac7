/**
 * Record headers of the dead-letter topic (`promstream.deadletter.v1`) and
 * of records marked as backfill, as specified in ../docs/dead-letter.md. A
 * dead-lettered record keeps the key, the value and the headers of the
 * original record untouched; what happened to it travels in the headers
 * below, as Kafka Connect's dead-letter queue carries it, so the exact bytes
 * can be re-driven to the original topic after a fix.
 */
import { SchemaError, SchemaErrorCode } from './errors.js';

/** The header names a dead-letter record carries, beside the original record's own headers. */
export const DEAD_LETTER_HEADERS = {
  topic: 'promstream.dlq.topic',
  partition: 'promstream.dlq.partition',
  offset: 'promstream.dlq.offset',
  timestamp: 'promstream.dlq.timestamp',
  processor: 'promstream.dlq.processor',
  reason: 'promstream.dlq.reason',
  message: 'promstream.dlq.message',
  deadLetteredAt: 'promstream.dlq.time',
  attempts: 'promstream.dlq.attempts',
  samples: 'promstream.dlq.samples',
  tenant: 'promstream.dlq.tenant',
} as const;

/** Every dead-letter header starts with this; nothing else may. */
export const DEAD_LETTER_HEADER_PREFIX = 'promstream.dlq.';

/**
 * The header that marks a samples record as backfill: old data carried onto
 * the log on purpose (an import, a replay of dead letters). Its value names
 * the tool that wrote it (`import`, `deadletter-replay`).
 */
export const BACKFILL_HEADER = 'promstream.backfill';

/** The longest message a dead-letter record keeps, in bytes of UTF-8. */
export const DEAD_LETTER_MESSAGE_BYTES = 1024;

/** What a dead-letter record says about the original record and why it is there. */
export interface DeadLetterInfo {
  /** Where the original record was. */
  topic: string;
  partition: number;
  offset: number;
  /** The original record's timestamp, ms. */
  timestamp: number;
  /** The processor that gave up on it (`block-builder`, ...). */
  processor: string;
  /** The stable code of why (`invalid_tenant`, `bad_record`, `schema_unknown_id`, ...). */
  reason: string;
  /** The error's message, cut to DEAD_LETTER_MESSAGE_BYTES. */
  message: string;
  /** When it was dead-lettered, ms. */
  deadLetteredAt: number;
  /** How many times the processor tried the record. */
  attempts: number;
  /** When only some samples of the record could not be placed: how many. */
  samples?: number;
  /** The tenant, when the value decoded far enough to name one. */
  tenant?: string;
}

/** A header value as kafkajs hands it out (or as a producer is given it). */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** Cuts a string to at most `max` bytes of UTF-8 without splitting a character. */
function cut(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** The dead-letter headers for `info`: names from DEAD_LETTER_HEADERS, values UTF-8 text, numbers in decimal. */
export function deadLetterHeaders(info: DeadLetterInfo): Record<string, Buffer> {
  const h = DEAD_LETTER_HEADERS;
  const out: Record<string, Buffer> = {
    [h.topic]: Buffer.from(info.topic),
    [h.partition]: Buffer.from(String(info.partition)),
    [h.offset]: Buffer.from(String(info.offset)),
    [h.timestamp]: Buffer.from(String(info.timestamp)),
    [h.processor]: Buffer.from(info.processor),
    [h.reason]: Buffer.from(info.reason),
    [h.message]: Buffer.from(cut(info.message, DEAD_LETTER_MESSAGE_BYTES)),
    [h.deadLetteredAt]: Buffer.from(String(info.deadLetteredAt)),
    [h.attempts]: Buffer.from(String(info.attempts)),
  };
  if (info.samples !== undefined) out[h.samples] = Buffer.from(String(info.samples));
  if (info.tenant !== undefined) out[h.tenant] = Buffer.from(info.tenant);
  return out;
}

function one(headers: Record<string, HeaderValue>, name: string): string | undefined {
  const v = headers[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : first;
}

function required(headers: Record<string, HeaderValue>, name: string): string {
  const v = one(headers, name);
  if (v === undefined)
    throw new SchemaError(SchemaErrorCode.BadWireFormat, `read a dead-letter record: no ${name} header`);
  return v;
}

function integer(headers: Record<string, HeaderValue>, name: string): number {
  const text = required(headers, name);
  if (!/^-?\d{1,16}$/.test(text))
    throw new SchemaError(
      SchemaErrorCode.BadWireFormat,
      `read a dead-letter record: header ${name} is ${JSON.stringify(text.slice(0, 40))}, not an integer`,
    );
  return Number(text);
}

/** Reads the dead-letter headers of a record; SCHEMA_BAD_WIRE_FORMAT when one is missing or malformed. */
export function readDeadLetterHeaders(headers: Record<string, HeaderValue>): DeadLetterInfo {
  const h = DEAD_LETTER_HEADERS;
  const info: DeadLetterInfo = {
    topic: required(headers, h.topic),
    partition: integer(headers, h.partition),
    offset: integer(headers, h.offset),
    timestamp: integer(headers, h.timestamp),
    processor: required(headers, h.processor),
    reason: required(headers, h.reason),
    message: required(headers, h.message),
    deadLetteredAt: integer(headers, h.deadLetteredAt),
    attempts: integer(headers, h.attempts),
  };
  if (one(headers, h.samples) !== undefined) info.samples = integer(headers, h.samples);
  const tenant = one(headers, h.tenant);
  if (tenant !== undefined) info.tenant = tenant;
  return info;
}

/** The original record's own headers: every header but the dead-letter ones. */
export function originalHeaders(headers: Record<string, HeaderValue>): Record<string, Buffer | Buffer[]> {
  const out: Record<string, Buffer | Buffer[]> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (name.startsWith(DEAD_LETTER_HEADER_PREFIX) || v === undefined) continue;
    out[name] = Array.isArray(v) ? v.map((x) => Buffer.from(x)) : Buffer.from(v);
  }
  return out;
}

/** Whether a record's headers mark it as backfill, and by which tool. */
export function backfillSource(headers: Record<string, HeaderValue> | undefined): string | undefined {
  return headers === undefined ? undefined : one(headers, BACKFILL_HEADER);
}
