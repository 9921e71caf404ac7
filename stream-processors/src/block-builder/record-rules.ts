import type { ConsumedRecord } from '@promstream/log';
import { tenantIdProblem } from '@promstream/storage';
import type { DeadLetter } from '../deadletter/seams.js';
import { StreamError } from '../errors.js';

/**
 * An INVALID_TENANT error when a record's tenant breaks the tenant-ID rule
 * (storage's `tenantIdProblem`), else undefined. Records written before the
 * gateway checked tenants can still carry one; such a record can never
 * become a block (its tenant is a bucket prefix), so it is dead-lettered.
 */
export function checkRecordTenant(tenant: string): StreamError | undefined {
  const problem = tenantIdProblem(tenant);
  return problem === undefined ? undefined : new StreamError('INVALID_TENANT', problem);
}

/** What a dead letter is made of. */
export interface LetterParts {
  topic: string;
  partition: number;
  offset: number;
  message: Pick<ConsumedRecord, 'key' | 'value' | 'headers' | 'timestamp'>;
  processor: string;
  error: StreamError;
  attempts: number;
  /** When it is dead-lettered, ms. */
  now: number;
  tenant?: string;
  /** Samples of the record that could not be placed, when the rest could. */
  samples?: number;
}

/** The dead letter of a record: its key, value and headers untouched, and what happened. */
export function letterFor(p: LetterParts): DeadLetter {
  const cause = p.error.cause instanceof Error ? `: ${p.error.cause.message}` : '';
  const message = p.error.message.includes(cause) ? p.error.message : `${p.error.message}${cause}`;
  return {
    key: p.message.key ?? null,
    value: p.message.value,
    headers: p.message.headers ?? {},
    info: {
      topic: p.topic,
      partition: p.partition,
      offset: p.offset,
      timestamp: p.message.timestamp,
      processor: p.processor,
      reason: p.error.reason,
      message,
      deadLetteredAt: p.now,
      attempts: p.attempts,
      ...(p.samples === undefined ? {} : { samples: p.samples }),
      ...(p.tenant === undefined ? {} : { tenant: p.tenant }),
    },
  };
}
