import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { onShutdown } from './shutdown.js';

/** A process stand-in: signals are emitted by the test, exit codes recorded. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let exited!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    exited = resolve;
  });
  return {
    host: {
      on: (signal: 'SIGTERM' | 'SIGINT', f: () => void) => emitter.on(signal, f),
      exit: (code: number) => {
        exits.push(code);
        exited(code);
      },
    },
    signal: (s: 'SIGTERM' | 'SIGINT') => emitter.emit(s),
    exits,
    done,
  };
}

const logger = pino({ level: 'silent' });

describe('onShutdown', () => {
  test('closes the steps in order, then exits 0', async () => {
    const p = fakeProcess();
    const order: string[] = [];
    const step = (name: string) => ({
      name,
      close: async () => {
        await new Promise((r) => setTimeout(r, 5));
        order.push(name);
      },
    });
    onShutdown(logger, [step('server'), step('producer'), step('buffer')], { host: p.host });
    p.signal('SIGTERM');
    expect(await p.done).toBe(0);
    expect(order).toEqual(['server', 'producer', 'buffer']);
  });

  test('a failing step is logged, the next still closes, and the exit code is 1', async () => {
    const p = fakeProcess();
    const order: string[] = [];
    onShutdown(
      logger,
      [
        { name: 'a', close: () => Promise.reject(new Error('boom')) },
        { name: 'b', close: () => void order.push('b') },
      ],
      { host: p.host },
    );
    p.signal('SIGINT');
    expect(await p.done).toBe(1);
    expect(order).toEqual(['b']);
  });

  test('a stop that hangs exits 1 within the bound', async () => {
    const p = fakeProcess();
    const started = Date.now();
    onShutdown(logger, [{ name: 'stuck', close: () => new Promise<void>(() => {}) }], {
      host: p.host,
      timeoutMs: 50,
    });
    p.signal('SIGTERM');
    expect(await p.done).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('a second signal exits 1 at once', async () => {
    const p = fakeProcess();
    onShutdown(logger, [{ name: 'stuck', close: () => new Promise<void>(() => {}) }], { host: p.host });
    p.signal('SIGTERM');
    p.signal('SIGINT');
    expect(await p.done).toBe(1);
    expect(p.exits).toEqual([1]);
  });
});
