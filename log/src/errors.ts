/** Stable codes of the log package; callers branch on these, never on messages. */
export const LogErrorCode = {
  /** The log could not be reached, or did not acknowledge a write in time. */
  Unavailable: 'LOG_UNAVAILABLE',
  /** A topic the call needs does not exist. */
  TopicMissing: 'LOG_TOPIC_MISSING',
  /** The options given cannot work (no brokers, a bad count). */
  BadOptions: 'LOG_BAD_OPTIONS',
  /** A consumer or producer was used after close. */
  Closed: 'LOG_CLOSED',
} as const;
export type LogErrorCode = (typeof LogErrorCode)[keyof typeof LogErrorCode];

const retryable: ReadonlySet<LogErrorCode> = new Set([LogErrorCode.Unavailable, LogErrorCode.TopicMissing]);

/** An error of the log package with a stable code and whether retrying can help. */
export class LogError extends Error {
  readonly code: LogErrorCode;
  readonly retryable: boolean;

  constructor(code: LogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogError';
    this.code = code;
    this.retryable = retryable.has(code);
  }
}

/** A LogError `Unavailable` for an action that failed, naming the action and the cause. */
export function unavailable(action: string, cause: unknown): LogError {
  if (cause instanceof LogError) return cause;
  return new LogError(LogErrorCode.Unavailable, `${action}: ${(cause as Error)?.message ?? String(cause)}`, {
    cause,
  });
}
