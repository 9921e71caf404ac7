import kafkajs from 'kafkajs';
import type { Logger } from 'pino';

/** Whether the client that owns a log line is being closed: connection errors are then expected. */
export interface ClientState {
  closing: boolean;
}

type Level = 'error' | 'warn' | 'info' | 'debug';

/**
 * Lines kafkajs writes above debug that are part of a normal run, and the
 * level they belong at. Everything else keeps kafkajs' level.
 *
 * - Every producer here is idempotent with a bounded retry count, on
 *   purpose: a write fails with LOG_UNAVAILABLE after a few tries so its
 *   caller can answer 503, rather than hang. Each retry of one request keeps
 *   its sequence numbers, so the warning is about a choice made, not a fault.
 * - "Response <Api>" errors are protocol errors kafkajs hands to its caller
 *   as well (a group rebalancing, a coordinator loading, a leader being
 *   elected while a topic is created). kafkajs retries the retriable ones;
 *   what is left reaches the caller as an error, which logs it once.
 * - A consumer meets a rebalance whenever a member joins or leaves: that is
 *   the group working, not failing.
 */
function normalLevel(message: string): Level | undefined {
  if (message.startsWith('Limiting retries for the idempotent producer')) return 'debug';
  if (/^Response \w+\(key: \d+/.test(message)) return 'debug';
  if (message.startsWith('The group is rebalancing')) return 'info';
  return undefined;
}

/**
 * Lines that say a broker went away: while the client is closing (its
 * process is stopping, and in the all-in-one the broker may stop first)
 * they are expected and go to debug; otherwise they are real and stay.
 */
function closingNoise(message: string): boolean {
  return (
    message.startsWith('Connection error') ||
    message.startsWith('Failed to connect') ||
    message.includes('ECONNREFUSED') ||
    message.includes('ECONNRESET') ||
    message.startsWith('Crash: ') ||
    message.startsWith('Restarting the consumer') ||
    message.startsWith('Caught error when disconnecting') ||
    message.startsWith('Caught error when stopping') ||
    message.includes('Connection closed') ||
    message.includes('Closed connection') ||
    message.includes('The consumer is stopped')
  );
}

/** The pino level of one kafkajs line, or undefined to drop it. */
export function pinoLevel(kafkaLevel: number, message: string, state: ClientState): Level | undefined {
  const { logLevel } = kafkajs;
  if (kafkaLevel === logLevel.NOTHING) return undefined;
  const normal = normalLevel(message);
  if (normal !== undefined) return normal;
  if (kafkaLevel <= logLevel.ERROR) return state.closing && closingNoise(message) ? 'debug' : 'error';
  if (kafkaLevel === logLevel.WARN) return state.closing && closingNoise(message) ? 'debug' : 'warn';
  if (kafkaLevel === logLevel.INFO) return 'debug';
  return 'debug';
}

/**
 * The one kafkajs log creator: every kafkajs line goes to pino (prefixed
 * `kafka:`, kafkajs' namespace as a field) at the level `pinoLevel` gives,
 * so kafkajs is never silenced and never louder than the run it reports on.
 * Without a logger nothing is written.
 */
export function kafkaLogCreator(logger: Logger | undefined, state: ClientState) {
  return () =>
    ({ level, namespace, log }: { level: number; namespace: string; log: { message: string } }) => {
      if (logger === undefined) return;
      const { message, ...rest } = log;
      const to = pinoLevel(level, message, state);
      if (to === undefined || !logger.isLevelEnabled(to)) return;
      logger[to]({ ...rest, namespace }, `kafka: ${message}`);
    };
}
