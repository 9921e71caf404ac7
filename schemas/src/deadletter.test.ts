import { describe, expect, it } from 'vitest';
import {
  BACKFILL_HEADER,
  backfillSource,
  DEAD_LETTER_HEADERS,
  type DeadLetterInfo,
  deadLetterHeaders,
  originalHeaders,
  readDeadLetterHeaders,
} from './deadletter.js';
import { TOPICS } from './topics.js';

const golden: DeadLetterInfo = {
  topic: TOPICS.samples,
  partition: 3,
  offset: 1200,
  timestamp: 1_764_000_000_000,
  processor: 'block-builder',
  reason: 'invalid_tenant',
  message: 'tenant ID "." is not allowed',
  deadLetteredAt: 1_764_000_001_000,
  attempts: 1,
  tenant: '.',
};

describe('dead-letter headers', () => {
  it('are exactly the golden vector of docs/dead-letter.md', () => {
    const text = Object.entries(deadLetterHeaders(golden)).map(([k, v]) => `${k} ${v.toString('utf8')}`);
    expect(text).toEqual([
      'promstream.dlq.topic promstream.samples.v1',
      'promstream.dlq.partition 3',
      'promstream.dlq.offset 1200',
      'promstream.dlq.timestamp 1764000000000',
      'promstream.dlq.processor block-builder',
      'promstream.dlq.reason invalid_tenant',
      'promstream.dlq.message tenant ID "." is not allowed',
      'promstream.dlq.time 1764000001000',
      'promstream.dlq.attempts 1',
      'promstream.dlq.tenant .',
    ]);
    expect(TOPICS.deadletter).toBe('promstream.deadletter.v1');
  });

  it('read back what was written, as Buffers or strings, and keep the original headers apart', () => {
    const info: DeadLetterInfo = { ...golden, samples: 7, tenant: undefined };
    delete info.tenant;
    const headers = {
      ...deadLetterHeaders(info),
      [BACKFILL_HEADER]: Buffer.from('import'),
      trace: ['a', 'b'],
    };
    expect(readDeadLetterHeaders(headers)).toEqual(info);
    const asStrings = Object.fromEntries(
      Object.entries(deadLetterHeaders(golden)).map(([k, v]) => [k, v.toString()]),
    );
    expect(readDeadLetterHeaders(asStrings)).toEqual(golden);
    const original = originalHeaders(headers);
    expect(Object.keys(original)).toEqual([BACKFILL_HEADER, 'trace']);
    expect(backfillSource(original)).toBe('import');
    expect(backfillSource({})).toBeUndefined();
  });

  it('cut a long message at a character boundary and refuse malformed numbers', () => {
    const long = deadLetterHeaders({ ...golden, message: 'é'.repeat(1000) });
    const message = long[DEAD_LETTER_HEADERS.message]!;
    expect(message.length).toBe(1024);
    expect(message.toString('utf8')).toBe('é'.repeat(512));
    const bad = { ...deadLetterHeaders(golden), [DEAD_LETTER_HEADERS.offset]: Buffer.from('12x') };
    expect(() => readDeadLetterHeaders(bad)).toThrow(/promstream.dlq.offset is "12x", not an integer/);
    const missing: Record<string, Buffer> = { ...deadLetterHeaders(golden) };
    delete missing[DEAD_LETTER_HEADERS.reason];
    expect(() => readDeadLetterHeaders(missing)).toThrow(/no promstream.dlq.reason header/);
  });
});
