import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runScript } from './runner.js';

/**
 * The conformance run behind `npm run conformance`: Prometheus' promqltest
 * scripts and our own, with per-file and total counts, and the verdict.
 */

/** Where the scripts are and how strict the run is. */
export interface ConformanceOptions {
  /** Prometheus' promqltest scripts (`PROMQLTEST_DIR`). */
  sharedDir: string;
  /** Our own scripts (`query/testdata`). */
  ownDir: string;
  /** Files (`promqltest/x.test`, `testdata/y.test`) that must have cases and pass all of them. */
  mustPass: readonly string[];
  /** In CI a missing Prometheus script directory fails the run instead of being announced. */
  ci: boolean;
  /** Only files whose name contains one of these (all when empty). */
  only?: readonly string[];
  /** Print why each failing case failed. */
  verbose?: boolean;
  /** Where the report goes, one line per call. */
  log: (line: string) => void;
}

function listTests(dir: string, prefix: string): { name: string; path: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test'))
    .sort()
    .map((f) => ({ name: `${prefix}/${f}`, path: join(dir, f) }));
}

/**
 * Runs the scripts and returns the exit code: 1 when a must-pass file fails a
 * case, has no case or is missing, or (in CI) when Prometheus' scripts are
 * absent; 0 otherwise. Known gaps in other files are reported, not fatal.
 */
export async function runConformance(o: ConformanceOptions): Promise<number> {
  const shared = listTests(o.sharedDir, 'promqltest');
  const problems: string[] = [];
  const notRun = `!!! promqltest: no Prometheus scripts at ${o.sharedDir}: the Prometheus part of the conformance run was NOT run (set PROMQLTEST_DIR); running our own scripts only`;
  if (shared.length === 0) {
    if (o.ci) problems.push(`no Prometheus promqltest scripts at ${o.sharedDir} (set PROMQLTEST_DIR)`);
    else o.log(notRun);
  }
  const only = o.only ?? [];
  let files = [...shared, ...listTests(o.ownDir, 'testdata')];
  if (only.length > 0) files = files.filter((f) => only.some((x) => f.name.includes(x)));
  const selected = (name: string) => only.length === 0 || only.some((x) => name.includes(x));
  for (const name of o.mustPass) {
    const present = files.some((f) => f.name === name);
    const skippedPrometheusPart = name.startsWith('promqltest/') && shared.length === 0 && !o.ci;
    if (!present && selected(name) && !skippedPrometheusPart)
      problems.push(`${name}: must pass but is missing`);
  }
  let passed = 0;
  let failed = 0;
  const fullyPassing: string[] = [];
  for (const f of files) {
    const must = o.mustPass.includes(f.name);
    let results: Awaited<ReturnType<typeof runScript>>;
    try {
      results = await runScript(readFileSync(f.path, 'utf8'));
    } catch (e) {
      o.log(`${f.name}: script error: ${(e as Error).message}`);
      if (must) problems.push(`${f.name}: script error`);
      failed++;
      continue;
    }
    const p = results.filter((r) => r.ok).length;
    const n = results.length - p;
    passed += p;
    failed += n;
    o.log(`${f.name}: ${p} passed, ${n} failed`);
    for (const r of results)
      if (!r.ok)
        o.log(`  FAIL ${basename(f.path)}:${r.line}: ${r.expr}${o.verbose ? `\n       ${r.message}` : ''}`);
    if (results.length === 0) {
      // A file that checks nothing must not count as passing.
      if (must) problems.push(`${f.name}: must pass but has no cases`);
    } else if (n === 0) fullyPassing.push(f.name);
    else if (must) problems.push(`${f.name}: ${n} failed`);
  }
  o.log(`total: ${passed} passed, ${failed} failed`);
  o.log(`fully passing files: ${fullyPassing.join(', ') || 'none'}`);
  for (const p of problems) o.log(`FAIL ${p}`);
  // Said again last, where a reader of the summary looks.
  if (shared.length === 0 && !o.ci) o.log(notRun);
  return problems.length > 0 ? 1 : 0;
}
