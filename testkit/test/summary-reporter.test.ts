import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarize } from '../src/summary-reporter.js';

const fixture = fileURLToPath(new URL('./fixtures/skips', import.meta.url));
const vitest = path.join(
  fileURLToPath(new URL('../..', import.meta.url)),
  'node_modules',
  'vitest',
  'vitest.mjs',
);

/** Runs the fixture project with the summary reporter; CI as given. */
function runFixture(ci: string | undefined, filter: string[] = []) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  const r = spawnSync(
    process.execPath,
    [vitest, 'run', '--config', path.join(fixture, 'vitest.config.ts'), ...filter],
    {
      cwd: fixture,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('summary reporter', () => {
  it('fails a CI run that skipped anything, listing the skipped tests and announced reasons', () => {
    const r = runFixture('true');
    expect(r.out).toContain('1 passed, 0 failed, 1 skipped');
    expect(r.out).toContain('[skip] fixture component suite: the component is absent');
    expect(r.out).toContain('skipped: skipping.fixture.ts > needs the component > would check it');
    expect(r.out).toContain('CI fails on skips');
    expect(r.code).toBe(1);
  });

  it('lists the skips but passes outside CI, and passes a CI run without skips', () => {
    const local = runFixture(undefined);
    expect(local.out).toContain('1 passed, 0 failed, 1 skipped');
    expect(local.out).toContain('[skip] fixture component suite');
    expect(local.code).toBe(0);
    const clean = runFixture('true', ['passing']);
    expect(clean.out).toContain('1 passed, 0 failed, 0 skipped');
    expect(clean.out).not.toContain('CI fails on skips');
    expect(clean.code).toBe(0);
  });

  it('counts an announced skip without a skipped test as a skip', () => {
    const v = summarize([{ name: 'a > b', state: 'passed' }], ['kcat part: kcat is not installed'], 0, true);
    expect(v.fail).toBe(true);
    expect(v.lines).toContain('  [skip] kcat part: kcat is not installed');
    expect(summarize([{ name: 'a > b', state: 'passed' }], [], 0, true).fail).toBe(false);
  });
});
