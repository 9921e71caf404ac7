import path from 'node:path';
import type { UserConsoleLog } from 'vitest';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one closing line, `N passed, N failed, N skipped`, after a vitest
 * run, so CI reads the outcome of every package's suite in one place. When
 * anything was skipped it lists the skipped tests and every announced skip
 * (`[skip] <suite>: <reason>`, from testkit's announceSkip) with its reason,
 * and with CI=true it fails the run: in CI every reference component is there,
 * so a skip means a check that silently did not run.
 */
export default class SummaryReporter implements Reporter {
  private readonly announced = new Set<string>();

  onUserConsoleLog(log: UserConsoleLog): void {
    for (const line of log.content.split('\n')) {
      const m = ANNOUNCED.exec(line);
      if (m) this.announced.add(`${m[1]}: ${m[2]}`);
    }
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const tests: TestOutcome[] = [];
    let emptyFailedModules = 0;
    for (const module of testModules) {
      const file = path.relative(process.cwd(), module.moduleId);
      for (const test of module.children.allTests())
        tests.push({ name: `${file} > ${test.fullName}`, state: test.result().state });
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) emptyFailedModules++;
    }
    const verdict = summarize(tests, [...this.announced], emptyFailedModules, isCi(process.env));
    process.stdout.write(`\n${verdict.lines.join('\n')}\n`);
    if (verdict.fail) process.exitCode = 1;
  }
}

const ANNOUNCED = /^\[skip\] (.+?): (.*)$/;

/** One test's name (file > suite > test) and how it ended. */
export interface TestOutcome {
  name: string;
  state: string;
}

/** Whether the environment says this is a CI run (CI=true or CI=1). */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/**
 * The closing lines of a run and whether it must fail: the skipped tests and
 * the announced skips, then the counts; in CI any skip fails the run.
 */
export function summarize(
  tests: readonly TestOutcome[],
  announced: readonly string[],
  emptyFailedModules: number,
  ci: boolean,
): { lines: string[]; fail: boolean } {
  const passed = tests.filter((t) => t.state === 'passed').length;
  const failed = tests.filter((t) => t.state === 'failed').length + emptyFailedModules;
  const skipped = tests.filter((t) => t.state !== 'passed' && t.state !== 'failed');
  const lines: string[] = [];
  if (skipped.length > 0 || announced.length > 0) {
    lines.push('skipped suites and their reasons:');
    for (const a of [...announced].sort()) lines.push(`  [skip] ${a}`);
    for (const t of skipped) lines.push(`  skipped: ${t.name}`);
  }
  const skips = skipped.length > 0 || announced.length > 0;
  if (ci && skips)
    lines.push(
      `CI fails on skips: ${skipped.length} skipped tests, ${announced.length} announced skips (every reference component must be there)`,
    );
  // The count stays the closing line, where CI reads it.
  lines.push(`${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  return { lines, fail: ci && skips };
}
