/**
 * Typed errors of the configuration loader, with stable codes. A bad
 * configuration is never retryable: the operator has to change it.
 */

/** The configuration error codes. */
export const CONFIG_ERROR_CODES = ['config_file', 'config_invalid'] as const;
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

/** A configuration that cannot be read or does not validate; `problems` lists every bad value. */
export class ConfigError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    readonly problems: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(problems.length === 0 ? message : `${message}:\n  - ${problems.join('\n  - ')}`, options);
    this.name = 'ConfigError';
  }
}
