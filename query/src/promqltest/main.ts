import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformance } from './conformance.js';

/**
 * The conformance command: runs Prometheus' promqltest scripts
 * (`PROMQLTEST_DIR`, else `../shared/conformance/promqltest/` beside the
 * repository) and our own (`query/testdata/*.test`) and exits non-zero when a
 * must-pass file of `query/testdata/conformance-baseline.json` fails, has no
 * case, or (with CI=true) when Prometheus' scripts are absent.
 */

const here = dirname(fileURLToPath(import.meta.url));
// Works from src/ (tsx) and from dist/ (built): both sit one level below the package.
const packageDir = resolve(here, '..', '..');
const repoRoot = resolve(packageDir, '..');

const args = process.argv.slice(2);
const baselinePath = join(packageDir, 'testdata', 'conformance-baseline.json');
const baseline: { mustPass: string[] } = existsSync(baselinePath)
  ? JSON.parse(readFileSync(baselinePath, 'utf8'))
  : { mustPass: [] };

runConformance({
  sharedDir: process.env.PROMQLTEST_DIR ?? resolve(repoRoot, '..', 'shared', 'conformance', 'promqltest'),
  ownDir: join(packageDir, 'testdata'),
  mustPass: baseline.mustPass,
  ci: process.env.CI === 'true' || process.env.CI === '1',
  only: args.filter((a) => !a.startsWith('-')),
  verbose: args.includes('--verbose') || args.includes('-v'),
  log: (line) => console.log(line),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 2;
  },
);
