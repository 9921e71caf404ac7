import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Pick } from './log-backend.js';
import { findTool } from './tools.js';

/** The Apache Kafka release whose jars CI fetches (infra/scripts/kafka.sh). */
export const KAFKA_TOOLS_VERSION = '4.3.1';

/** Apache Kafka's own command-line tools, run from the jars in the cache. */
export interface KafkaTools {
  java: string;
  /** The classpath: every jar of the cache's libs directory. */
  classpath: string;
  /**
   * Runs a tool's main class (`org.apache.kafka.tools.TopicCommand`, say) with
   * its arguments; resolves to its exit code and output, killing it after timeoutMs.
   */
  run(
    mainClass: string,
    args: string[],
    options?: { input?: string; timeoutMs?: number },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `$PROMSTREAM_CACHE/kafka-4.3.1/libs`, where `kafka.sh install` puts the jars. */
export function kafkaLibsDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.PROMSTREAM_CACHE ?? path.join(homedir(), '.cache', 'promstream');
  return path.join(cache, `kafka-${KAFKA_TOOLS_VERSION}`, 'libs');
}

/**
 * Kafka's tools when java and the jars (kafka-tools among them) are there;
 * otherwise the reason, for the suite to announce its skip.
 */
export function kafkaTools(env: NodeJS.ProcessEnv = process.env): Pick<KafkaTools> {
  const java = findTool('java');
  if (java === undefined) return { ok: false, reason: 'java is not installed' };
  const libs = kafkaLibsDir(env);
  const jar = path.join(libs, `kafka-tools-${KAFKA_TOOLS_VERSION}.jar`);
  if (!existsSync(jar))
    return { ok: false, reason: `${jar} is missing (infra/scripts/kafka.sh install fetches it)` };
  const classpath = path.join(libs, '*');
  const run: KafkaTools['run'] = (mainClass, args, options = {}) =>
    new Promise((resolve) => {
      // Kafka's tools log through log4j2; without a configuration it warns on every start.
      const child = execFile(
        java,
        ['-Xms64m', '-Xmx256m', '-Dlog4j2.level=WARN', '-cp', classpath, mainClass, ...args],
        { timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(options.input ?? '');
    });
  return { ok: true, backend: { java, classpath, run } };
}
