import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Pick } from './log-backend.js';

/**
 * Finds the Prometheus that tests and benchmarks take as the reference for
 * PromQL semantics and for reading our blocks: Prometheus 3.16, built by
 * `infra/scripts/prometheus.sh install`. Debian's older Prometheus on PATH is
 * never taken for that; it stays a remote-write client (`findTool`).
 */

/** The version the reference must have. */
export const PROMETHEUS_REFERENCE_VERSION = '3.16';

/** The reference binaries and the version they report. */
export interface PrometheusReference {
  prometheus: string;
  promtool: string;
  /** As the binary reports it, e.g. `3.16.0`. */
  version: string;
}

/** The directory the installer builds into: `$PROMSTREAM_CACHE/prometheus-3.16.0/bin`. */
export function prometheusCacheBin(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.PROMSTREAM_CACHE ?? path.join(homedir(), '.cache', 'promstream');
  return path.join(cache, `prometheus-${PROMETHEUS_REFERENCE_VERSION}.0`, 'bin');
}

/**
 * The version a Prometheus or promtool binary reports (`--version`), or, for
 * a binary built without a version stamp, the one of its Go module
 * (`go version -m`, v0.316.0 standing for 3.16.0). Undefined when neither says.
 */
export function prometheusVersion(binary: string): string | undefined {
  try {
    const out = execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /version (\d+\.\d+\.\d+\S*)/.exec(out);
    if (m) return m[1];
  } catch {
    return undefined;
  }
  try {
    const out = execFileSync('go', ['version', '-m', binary], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const m = /\bmod\s+github\.com\/prometheus\/prometheus\s+v0\.(\d+)(\d\d)\.(\d+)/.exec(out);
    if (m) return `${Number(m[1])}.${Number(m[2])}.${m[3]}`;
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Prometheus 3.16 and its promtool: from `PROMETHEUS_BIN_DIR` when set, else
 * from the installer's cache directory. A binary of another version is
 * refused with the reason, so no suite silently compares against it.
 */
export function prometheusReference(env: NodeJS.ProcessEnv = process.env): Pick<PrometheusReference> {
  const dir = env.PROMETHEUS_BIN_DIR ?? prometheusCacheBin(env);
  const prometheus = path.join(dir, 'prometheus');
  const promtool = path.join(dir, 'promtool');
  const install = 'infra/scripts/prometheus.sh install builds it; PROMETHEUS_BIN_DIR points elsewhere';
  if (!existsSync(prometheus) || !existsSync(promtool))
    return { ok: false, reason: `Prometheus ${PROMETHEUS_REFERENCE_VERSION} is not at ${dir} (${install})` };
  const version = prometheusVersion(prometheus);
  if (version === undefined || !version.startsWith(`${PROMETHEUS_REFERENCE_VERSION}.`))
    return {
      ok: false,
      reason: `${prometheus} is version ${version ?? 'unknown'}, not ${PROMETHEUS_REFERENCE_VERSION} (${install})`,
    };
  return { ok: true, backend: { prometheus, promtool, version } };
}
