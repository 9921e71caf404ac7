import kafkajs from 'kafkajs';
import { describe, expect, test } from 'vitest';
import { pinoLevel } from './logging.js';

const { ERROR, WARN, INFO } = kafkajs.logLevel;

describe('kafkajs lines in pino', () => {
  test('what a normal run says is below warn', () => {
    const running = { closing: false };
    expect(
      pinoLevel(WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees', running),
    ).toBe('debug');
    expect(pinoLevel(ERROR, 'Response JoinGroup(key: 11, version: 5)', running)).toBe('debug');
    expect(pinoLevel(WARN, 'The group is rebalancing, re-joining', running)).toBe('info');
    expect(pinoLevel(INFO, 'Consumer has joined the group', running)).toBe('debug');
  });

  test('a broker going away is an error while running and debug while closing', () => {
    const line = 'Connection error: connect ECONNREFUSED 127.0.0.1:9092';
    expect(pinoLevel(ERROR, line, { closing: false })).toBe('error');
    expect(pinoLevel(ERROR, line, { closing: true })).toBe('debug');
    expect(pinoLevel(ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: x', { closing: true })).toBe('debug');
  });

  test('other errors stay errors, even while closing', () => {
    expect(pinoLevel(ERROR, 'Error when calling eachBatch', { closing: true })).toBe('error');
    expect(pinoLevel(WARN, 'Response without match', { closing: false })).toBe('warn');
  });
});
