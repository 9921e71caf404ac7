import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScript } from './runner.js';

/**
 * The conformance command: runs Prometheus' promqltest scripts (from
 * `../shared/conformance/promqltest/` beside the repository, when present) and
 * our own (`query/testdata/*.test`), prints per file `N passed, N failed`
 * with the name of every failing case, and a total. It exits non-zero when
 * a file listed as must-pass in `query/testdata/conformance-baseline.json`
 * has a failure.
 */

const here = dirname(fileURLToPath(import.meta.url));
// Works from src/ (tsx) and from dist/ (built): both sit one level below the package.
const packageDir = resolve(here, '..', '..');
const repoRoot = resolve(packageDir, '..');

interface Baseline {
  mustPass: string[];
}

function listTests(dir: string, prefix: string): { name: string; path: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test'))
    .sort()
    .map((f) => ({ name: `${prefix}/${f}`, path: join(dir, f) }));
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose') || args.includes('-v');
  const only = args.filter((a) => !a.startsWith('-'));
  const sharedDir =
    process.env.PROMQLTEST_DIR ?? resolve(repoRoot, '..', 'shared', 'conformance', 'promqltest');
  let files = [...listTests(sharedDir, 'promqltest'), ...listTests(join(packageDir, 'testdata'), 'testdata')];
  if (files.filter((f) => f.name.startsWith('promqltest/')).length === 0)
    console.log(`promqltest: no Prometheus scripts at ${sharedDir}; running our own only`);
  if (only.length > 0) files = files.filter((f) => only.some((o) => f.name.includes(o)));
  const baselinePath = join(packageDir, 'testdata', 'conformance-baseline.json');
  const baseline: Baseline = existsSync(baselinePath)
    ? JSON.parse(readFileSync(baselinePath, 'utf8'))
    : { mustPass: [] };
  let passed = 0;
  let failed = 0;
  const regressions: string[] = [];
  const fullyPassing: string[] = [];
  for (const f of files) {
    let results: Awaited<ReturnType<typeof runScript>>;
    try {
      results = await runScript(readFileSync(f.path, 'utf8'));
    } catch (e) {
      console.log(`${f.name}: script error: ${(e as Error).message}`);
      if (baseline.mustPass.includes(f.name)) regressions.push(f.name);
      failed++;
      continue;
    }
    const p = results.filter((r) => r.ok).length;
    const n = results.length - p;
    passed += p;
    failed += n;
    console.log(`${f.name}: ${p} passed, ${n} failed`);
    for (const r of results)
      if (!r.ok)
        console.log(
          `  FAIL ${basename(f.path)}:${r.line}: ${r.expr}${verbose ? `\n       ${r.message}` : ''}`,
        );
    if (n === 0) fullyPassing.push(f.name);
    else if (baseline.mustPass.includes(f.name)) regressions.push(f.name);
  }
  console.log(`total: ${passed} passed, ${failed} failed`);
  console.log(`fully passing files: ${fullyPassing.join(', ') || 'none'}`);
  if (regressions.length > 0) {
    console.log(`must-pass files with failures: ${regressions.join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 2;
  },
);
