/**
 * Typed errors of the rules role, with stable codes. Callers branch on
 * `code`, never on message text.
 */

/** Every error code of the rules role, with whether trying again can help. */
export const RULES_ERROR_CODES = {
  /** A rule file is not valid YAML, or not in Prometheus' rule file format. */
  RULE_FILE: { retryable: false },
  /** A template of a label or annotation does not parse or does not execute. */
  TEMPLATE: { retryable: false },
  /** A rule's expression failed to evaluate (many-to-many matching, a limit, ...). */
  EVALUATION: { retryable: false },
  /** A rule unit-test file is not valid. */
  TEST_FILE: { retryable: false },
  /** Writing results to the log or reading data did not succeed. */
  IO: { retryable: true },
  /** Options given to the role are invalid. */
  BAD_OPTIONS: { retryable: false },
} as const;

/** A rules error code. */
export type RulesErrorCode = keyof typeof RULES_ERROR_CODES;

/** An error of the rules role. */
export class RulesError extends Error {
  /** Waiting and trying again can help. */
  readonly retryable: boolean;

  constructor(
    readonly code: RulesErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RulesError';
    this.retryable = RULES_ERROR_CODES[code].retryable;
  }
}
