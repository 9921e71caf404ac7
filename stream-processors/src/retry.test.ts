import { describe, expect, test } from 'vitest';
import { StreamError } from './errors.js';
import { type RetryContext, tryRecord } from './retry.js';

function context(keepGoing = () => true) {
  const waits: number[] = [];
  const ctx: RetryContext = {
    sleep: async (ms) => {
      waits.push(ms);
    },
    keepGoing,
  };
  return { ctx, waits };
}

/** A function failing with the given errors in turn, then answering 'done'. */
function failing(...errors: StreamError[]) {
  let calls = 0;
  const fn = async () => {
    const e = errors[calls++];
    if (e !== undefined) throw e;
    return 'done';
  };
  return { fn, calls: () => calls };
}

describe('tryRecord', () => {
  test('waits out transient failures however many, with doubling waits up to the cap', async () => {
    const { ctx, waits } = context();
    const errors = Array.from({ length: 9 }, () => new StreamError('UPLOAD', 'store down'));
    const { fn } = failing(...errors);
    const r = await tryRecord(fn, { initialDelayMs: 100, maxDelayMs: 1000 }, ctx);
    expect(r).toEqual({ ok: true, value: 'done', attempts: 10 });
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000]);
  });

  test('gives a registry-dependent failure a bounded number of tries, then returns it', async () => {
    const { ctx, waits } = context();
    const unknown = () => new StreamError('SCHEMA_UNKNOWN_ID', 'no schema 9');
    const { fn, calls } = failing(unknown(), unknown(), unknown(), unknown());
    const r = await tryRecord(fn, { recheckAttempts: 3, recheckDelayMs: 50 }, ctx);
    expect(r).toMatchObject({ ok: false, attempts: 3, error: { code: 'SCHEMA_UNKNOWN_ID' } });
    expect(calls()).toBe(3);
    expect(waits).toEqual([50, 50]);
  });

  test('returns a failure no retry can help at once, and anything unknown as a bad record', async () => {
    const { ctx, waits } = context();
    const r = await tryRecord(failing(new StreamError('INVALID_TENANT', '..')).fn, {}, ctx);
    expect(r).toMatchObject({
      ok: false,
      attempts: 1,
      error: { code: 'INVALID_TENANT', reason: 'invalid_tenant' },
    });
    const odd = await tryRecord(
      async () => {
        throw new SyntaxError('Unexpected token');
      },
      {},
      ctx,
    );
    expect(odd).toMatchObject({ ok: false, error: { code: 'BAD_RECORD', deadLetter: true } });
    expect(waits).toEqual([]);
  });

  test('stops waiting when the processor stops or loses the partition', async () => {
    let going = true;
    const { ctx, waits } = context(() => going);
    ctx.onWait = () => {
      if (waits.length === 2) going = false;
    };
    const errors = Array.from({ length: 100 }, () => new StreamError('LOG', 'broker down'));
    const r = await tryRecord(failing(...errors).fn, {}, ctx);
    expect(r).toEqual({ ok: false, stopped: true, attempts: 3 });
    // A processor that is stopping still makes the first try (it finishes the batch it has).
    const last = await tryRecord(async () => 'cut', {}, context(() => false).ctx);
    expect(last).toEqual({ ok: true, value: 'cut', attempts: 1 });
  });
});
