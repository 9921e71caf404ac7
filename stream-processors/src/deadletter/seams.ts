import type { DeadLetterInfo } from '@promstream/schemas';

/**
 * The dead-letter seam: a processor hands the records it gives up on to a
 * sink that makes them durable on `promstream.deadletter.v1` (format:
 * schemas/docs/dead-letter.md) before the processor commits past them.
 */

/** One record a processor gives up on: the original record as read, and why. */
export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  /** The original record's headers, passed on unchanged. */
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  info: DeadLetterInfo;
}

/** Where dead letters go. */
export interface DeadLetterSink {
  /** Resolves once the log holds every letter; rejects with a retryable LOG error otherwise. */
  send(letters: readonly DeadLetter[]): Promise<void>;
}
