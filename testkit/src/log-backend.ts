import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerAvailable } from './docker.js';
import { freePort, waitForPort } from './ports.js';

/** A Kafka-protocol endpoint for a test suite, and how to release it. */
export interface LogBackend {
  kind: 'environment' | 'testcontainers' | 'embedded';
  brokers: string[];
  /** The broker's process id when this machine runs it as a process we started (embedded), for its CPU. */
  pid?: number;
  stop(): Promise<void>;
}

/** Either a backend or the reason none could be had. */
export type Pick<T> = { ok: true; backend: T } | { ok: false; reason: string };

/** The repository root, found from this file's place in testkit/. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The real Kafka given by KAFKA_BROKERS, and nothing else. */
export function realKafka(): Pick<LogBackend> {
  const brokers = process.env.KAFKA_BROKERS;
  if (brokers === undefined || brokers.trim() === '') {
    return { ok: false, reason: 'KAFKA_BROKERS is not set (.ci/run starts Apache Kafka and sets it)' };
  }
  return {
    ok: true,
    backend: { kind: 'environment', brokers: brokers.split(',').map((b) => b.trim()), stop: async () => {} },
  };
}

/** Starts the embedded broker of this repository as a child process on a free port. */
export async function startEmbeddedBroker(options: { dataDir?: string } = {}): Promise<Pick<LogBackend>> {
  const cli = path.join(repoRoot, 'bin', 'promstream.js');
  const built = path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js');
  if (!existsSync(built)) return { ok: false, reason: 'infra is not built (run npm run build)' };
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'promstream-broker-'));
  const port = await freePort();
  const child = spawn(process.execPath, [cli, 'broker', '--data', dataDir, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await Promise.race([
      waitForPort('127.0.0.1', port, 20_000),
      exited.then((code) => {
        throw new Error(`embedded broker exited with ${code}: ${stderr.slice(0, 500)}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    return { ok: false, reason: (err as Error).message };
  }
  return {
    ok: true,
    backend: {
      kind: 'embedded',
      brokers: [`127.0.0.1:${port}`],
      pid: child.pid,
      stop: async () => {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        child.kill('SIGKILL');
        if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
      },
    },
  };
}

async function startKafkaContainer(): Promise<Pick<LogBackend>> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('apache/kafka:4.1.0')
    .withExposedPorts(9092)
    .withWaitStrategy(Wait.forListeningPorts())
    .start();
  return {
    ok: true,
    backend: {
      kind: 'testcontainers',
      brokers: [`${container.getHost()}:${container.getMappedPort(9092)}`],
      stop: async () => {
        await container.stop();
      },
    },
  };
}

/**
 * The log backend for a suite, in the order the design gives: KAFKA_BROKERS
 * from the environment, testcontainers where a Docker engine answers, then
 * the embedded broker.
 */
export async function logBackend(): Promise<Pick<LogBackend>> {
  const env = realKafka();
  if (env.ok) return env;
  if (await dockerAvailable()) return startKafkaContainer();
  return startEmbeddedBroker();
}
