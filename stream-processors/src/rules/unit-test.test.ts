import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { announceSkip, prometheusReference } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { runUnitTestFile } from './unit-test.js';

// The unit-test files of testdata/unit run through `promstream rules test`
// and Prometheus 3.16's `promtool test rules`: the same verdict, the same
// output on stdout and stderr, failing files included.

const run = promisify(execFile);
const dir = path.join(import.meta.dirname, 'testdata', 'unit');
const files = readdirSync(dir).filter((f) => f.startsWith('pass-') || f.startsWith('fail-'));
const reference = prometheusReference();
if (!reference.ok) announceSkip('rules unit tests against promtool', reference.reason);

describe('rule unit tests', () => {
  it.each(files)('%s passes or fails as its name says', async (f) => {
    const report = await runUnitTestFile(path.join(dir, f));
    expect(report.ok, report.stderr).toBe(f.startsWith('pass-'));
    if (!report.ok) expect(report.stderr).toMatch(/^ {2}FAILED:\n/);
  });

  describe.skipIf(!reference.ok)('against promtool test rules (Prometheus 3.16)', () => {
    const promtool = reference.ok ? reference.backend.promtool : '';
    it.each(files)('%s', async (f) => {
      let code = 0;
      let stdout = '';
      let stderr = '';
      try {
        ({ stdout, stderr } = await run(promtool, ['test', 'rules', f], { cwd: dir }));
      } catch (err) {
        ({ code, stdout, stderr } = err as { code: number; stdout: string; stderr: string });
      }
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const ours = await runUnitTestFile(f);
        expect(ours.ok).toBe(code === 0);
        expect(ours.stderr).toBe(stderr);
        expect(ours.stdout).toBe(stdout);
      } finally {
        process.chdir(cwd);
      }
    });
  });
});
