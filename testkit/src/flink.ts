import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { type Pick, repoRoot } from './log-backend.js';
import { findTool } from './tools.js';

/** The Flink job of tests/flink, built by `infra/scripts/flink.sh install`. */
export interface FlinkJob {
  java: string;
  /** The job's jar and every jar it needs. */
  classpath: string;
  /** JVM options Flink needs on Java 17 and later (its own launcher passes the same). */
  jvmOptions: string[];
}

/** `$PROMSTREAM_CACHE/flink-events`, where flink.sh puts the job's jars. */
export function flinkJobDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.PROMSTREAM_CACHE ?? path.join(homedir(), '.cache', 'promstream');
  return path.join(cache, 'flink-events');
}

/** Every file under dir except build output, as relative paths in byte order. */
function projectFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      if (rel !== 'target') out.push(...projectFiles(dir, rel));
    } else out.push(rel);
  }
  return out.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : a === b ? 0 : 1));
}

/** The digest flink.sh keeps in .complete: each path, a newline, then its bytes. */
export function flinkProjectDigest(project = path.join(repoRoot, 'tests', 'flink')): string {
  const hash = createHash('sha256');
  for (const rel of projectFiles(project)) {
    hash.update(`${rel}\n`);
    hash.update(readFileSync(path.join(project, rel)));
  }
  return hash.digest('hex');
}

/** Java 17 closes the packages Flink's serializers reach into unless they are opened. */
const OPENS = [
  'java.base/java.lang',
  'java.base/java.util',
  'java.base/java.lang.reflect',
  'java.base/java.time',
];

/**
 * The built Flink job when java is there and the cache holds a build of the
 * current tests/flink; otherwise the reason, for the suite to announce its skip.
 */
export function flinkJob(env: NodeJS.ProcessEnv = process.env): Pick<FlinkJob> {
  const java = findTool('java');
  if (java === undefined) return { ok: false, reason: 'java is not installed' };
  const dir = flinkJobDir(env);
  const marker = path.join(dir, '.complete');
  const install = 'infra/scripts/flink.sh install builds it';
  if (!existsSync(marker)) return { ok: false, reason: `the Flink job is not built in ${dir} (${install})` };
  if (readFileSync(marker, 'utf8').trim() !== flinkProjectDigest())
    return {
      ok: false,
      reason: `the Flink job in ${dir} was built from other sources than tests/flink (${install})`,
    };
  return {
    ok: true,
    backend: {
      java,
      classpath: path.join(dir, 'libs', '*'),
      jvmOptions: OPENS.map((p) => `--add-opens=${p}=ALL-UNNAMED`),
    },
  };
}
