import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Pick, repoRoot } from './log-backend.js';

/**
 * Finds the Thanos v0.42.5 oracle (testkit/thanos-tool, built into the cache
 * by `infra/scripts/thanos.sh install`): `PROMSTREAM_THANOS_TOOL` when set,
 * else the build of the current sources in `$PROMSTREAM_CACHE`. Tests that
 * compare against Thanos skip with the reason when it is absent.
 */
export function thanosTool(env: NodeJS.ProcessEnv = process.env): Pick<{ bin: string }> {
  const given = env.PROMSTREAM_THANOS_TOOL;
  if (given !== undefined && given !== '') {
    return existsSync(given)
      ? { ok: true, backend: { bin: given } }
      : { ok: false, reason: `PROMSTREAM_THANOS_TOOL=${given} does not exist` };
  }
  const script = path.join(repoRoot, 'infra', 'scripts', 'thanos.sh');
  try {
    const bin = execFileSync('bash', [script, 'bin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    })
      .trim()
      .split('\n')
      .pop();
    if (bin !== undefined && existsSync(bin)) return { ok: true, backend: { bin } };
  } catch {
    // Not built: the reason below says how to build it.
  }
  return {
    ok: false,
    reason: 'the Thanos v0.42.5 tool is not built (infra/scripts/thanos.sh install builds it)',
  };
}
