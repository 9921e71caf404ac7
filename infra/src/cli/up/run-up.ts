import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { onShutdown } from '../../config/shutdown.js';
import { startFront } from '../../supervisor/front.js';
import { type ChildSpec, Supervisor } from '../../supervisor/supervisor.js';
import { refuseBadDataDir, refuseBusyPorts } from '../preflight.js';

/** Options of the all-in-one, from its configuration (the `up` section and the settings it hands on). */
export interface UpOptions {
  dataDir: string;
  host: string;
  port: number;
  kafkaPort: number;
  registryPort: number;
  blockDurationMs: number;
  outOfOrderWindowMs: number;
  agent: boolean;
  logLevel: string;
  /** The configuration file the all-in-one read, handed to every role; undefined: none given. */
  configFile: string | undefined;
  /** The rollup rules file; undefined: no rollups role. */
  rollupConfig?: string;
}

/**
 * Longest the stop may take: every role in turn may take the supervisor's
 * 10 s before it is killed, so the whole stop gets longer than one role's.
 */
const STOP_TIMEOUT_MS = 60_000;

/** The tenant of writes and queries that name none. */
const TENANT = 'anonymous';

/** The ports the roles listen on inside the all-in-one. */
export interface UpPorts {
  kafka: number;
  registry: number;
  gateway: number;
  query: number;
  agent: number;
  rules: number;
}

/** The rollups role's arguments, or undefined without a rules file. */
function rollupsArgs(file: string | undefined, brokers: string, registry: string, store: string) {
  if (file === undefined) return undefined;
  return ['--rollup-config', file, '--brokers', brokers, '--registry', registry, '--store', store];
}

/** The command line of each role of the all-in-one, in start order. */
export function upChildren(options: UpOptions, ports: UpPorts, cli: string): ChildSpec[] {
  const loopback = '127.0.0.1';
  const brokers = `${loopback}:${ports.kafka}`;
  const registry = `http://${loopback}:${ports.registry}`;
  const logFlags = ['--brokers', brokers, '--registry', registry];
  const store = `file://${path.join(options.dataDir, 'blocks')}`;
  const blockDuration = `${options.blockDurationMs}ms`;
  const outOfOrderWindow = `${options.outOfOrderWindowMs}ms`;
  // Every role reads the same file; the flags below win over it where the all-in-one decides.
  const config = options.configFile === undefined ? [] : ['--config', options.configFile];
  const node = (name: string, args: string[], readyPort?: number): ChildSpec => ({
    name,
    command: process.execPath,
    args: [cli, name, ...config, ...args],
    env: { ...process.env, PROMSTREAM_LOG_LEVEL: options.logLevel },
    readyPort: readyPort === undefined ? undefined : { host: loopback, port: readyPort },
  });
  const rollups = rollupsArgs(options.rollupConfig, brokers, registry, store);
  const children = [
    node(
      'broker',
      [
        '--data',
        path.join(options.dataDir, 'log'),
        '--host',
        loopback,
        '--port',
        String(ports.kafka),
        '--default-partitions',
        '4',
      ],
      ports.kafka,
    ),
    node(
      'registry',
      ['--brokers', brokers, '--host', loopback, '--port', String(ports.registry)],
      ports.registry,
    ),
    node(
      'gateway',
      // One tenant for writes and queries without X-Scope-OrgID.
      [
        '--brokers',
        brokers,
        '--registry',
        registry,
        '--host',
        loopback,
        '--port',
        String(ports.gateway),
        '--default-tenant',
        TENANT,
        // Samples the block builder could no longer place are refused at the edge.
        '--out-of-order-window',
        outOfOrderWindow,
      ],
      ports.gateway,
    ),
    node('block-builder', [
      '--brokers',
      brokers,
      '--registry',
      registry,
      '--store',
      store,
      '--block-duration',
      blockDuration,
      '--out-of-order-window',
      outOfOrderWindow,
      ...(rollups === undefined ? [] : rollups.slice(0, 2)),
    ]),
    // Compaction, downsampling and deletions of the bucket; it waits for the bucket lease if another runs.
    node('compactor', ['--store', store]),
    node('event-store', [...logFlags, '--store', store, '--default-tenant', TENANT]),
    // Streaming rollups into the derived topic, when rules are given.
    ...(rollups === undefined ? [] : [node('rollups', rollups)]),
    node(
      'query',
      [
        '--store',
        store,
        '--tail-log',
        '--brokers',
        brokers,
        '--registry',
        registry,
        '--host',
        loopback,
        '--port',
        String(ports.query),
        '--default-tenant',
        TENANT,
        '--block-duration',
        blockDuration,
        '--out-of-order-window',
        outOfOrderWindow,
      ],
      ports.query,
    ),
    ...rulesChildren(options, ports, node),
  ];
  if (options.agent)
    children.push(
      node('agent', [
        '--brokers',
        brokers,
        '--registry',
        registry,
        '--data',
        options.dataDir,
        '--tenant',
        TENANT,
        '--port',
        String(ports.agent),
      ]),
    );
  return children;
}

/**
 * The rules role and the block builder of the derived topic (where recorded
 * series and ALERTS go), so recorded series become blocks like any other.
 * The rule files of each tenant are in <data>/rules/<tenant>/*.yml.
 */
function rulesChildren(
  options: UpOptions,
  ports: UpPorts,
  node: (name: string, args: string[], readyPort?: number) => ChildSpec,
): ChildSpec[] {
  const loopback = '127.0.0.1';
  const brokers = `${loopback}:${ports.kafka}`;
  const registry = `http://${loopback}:${ports.registry}`;
  const store = `file://${path.join(options.dataDir, 'blocks')}`;
  const blockDuration = `${options.blockDurationMs}ms`;
  const outOfOrderWindow = `${options.outOfOrderWindowMs}ms`;
  return [
    // A builder of its own, with its own group and partition state.
    {
      ...node('block-builder', [
        '--brokers',
        brokers,
        '--registry',
        registry,
        '--store',
        store,
        '--topic',
        'promstream.derived.v1',
        '--group-id',
        'promstream-block-builder-derived',
        '--block-duration',
        blockDuration,
        '--out-of-order-window',
        outOfOrderWindow,
      ]),
      name: 'block-builder-derived',
    },
    node(
      'rules',
      [
        '--rules-dir',
        path.join(options.dataDir, 'rules'),
        '--store',
        store,
        '--brokers',
        brokers,
        '--registry',
        registry,
        '--host',
        loopback,
        '--port',
        String(ports.rules),
        '--tenant',
        TENANT,
        '--block-duration',
        blockDuration,
        '--out-of-order-window',
        outOfOrderWindow,
      ],
      ports.rules,
    ),
  ];
}

/** Starts the all-in-one and keeps it running until SIGINT or SIGTERM. */
export async function runUp(options: UpOptions): Promise<void> {
  const logger = pino({ name: 'up', level: options.logLevel });
  // Everything is checked before the first role starts: a second instance
  // would otherwise join the first one's broker and groups before it failed.
  refuseBadDataDir('--data', options.dataDir);
  const loopback = '127.0.0.1';
  await refuseBusyPorts([
    { host: options.host, port: options.port, flag: '--port' },
    { host: loopback, port: options.kafkaPort, flag: '--kafka-port' },
    { host: loopback, port: options.registryPort, flag: '--registry-port' },
  ]);
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(path.join(dataDir, 'blocks'), { recursive: true });
  mkdirSync(path.join(dataDir, 'rules', TENANT), { recursive: true });
  const cli = path.resolve(
    path.dirname(fileURLToPath(import.meta.url)),
    '..',
    '..',
    '..',
    '..',
    'bin',
    'promstream.js',
  );
  const [gatewayPort, queryPort, agentPort, rulesPort] = await freePorts(4, [
    options.port,
    options.kafkaPort,
    options.registryPort,
  ]);
  const ports: UpPorts = {
    kafka: options.kafkaPort,
    registry: options.registryPort,
    gateway: gatewayPort as number,
    query: queryPort as number,
    agent: agentPort as number,
    rules: rulesPort as number,
  };
  const supervisor = new Supervisor({ children: upChildren({ ...options, dataDir }, ports, cli), logger });
  let front: Awaited<ReturnType<typeof startFront>> | undefined;
  // Installed before the first role starts: the roles run in process groups
  // of their own, so a Ctrl-C while they start must stop them too. The front
  // closes first, so no new request reaches a role that is stopping.
  onShutdown(
    logger,
    [
      { name: 'front', close: () => front?.close() },
      { name: 'roles', close: () => supervisor.stop() },
    ],
    { timeoutMs: STOP_TIMEOUT_MS },
  );
  try {
    await supervisor.start();
    front = await startFront({
      host: options.host,
      port: options.port,
      write: { host: '127.0.0.1', port: ports.gateway },
      query: { host: '127.0.0.1', port: ports.query },
      rules: { host: '127.0.0.1', port: ports.rules },
    });
  } catch (err) {
    logger.error({ err }, 'the all-in-one did not start');
    await supervisor.stop();
    process.exit(1);
  }
  const url = front.url;
  console.log(
    [
      '',
      '  promstream is up',
      '',
      `  remote write   ${url}/api/v1/write`,
      `  PromQL         ${url}/api/v1/query   (promtool query instant ${url} 'up')`,
      `  rules          ${path.join(dataDir, 'rules', TENANT)}/*.yml   (${url}/api/v1/rules)`,
      `  Kafka          127.0.0.1:${ports.kafka}`,
      `  registry       http://127.0.0.1:${ports.registry}`,
      `  data           ${dataDir}`,
      '',
      '  Ctrl-C stops every role.',
      '',
    ].join('\n'),
  );
}

/**
 * `count` distinct free local ports for the roles, none of them one the user
 * asked for (`taken`): each is held open until all are found, so the system
 * cannot hand the same port out twice.
 */
async function freePorts(count: number, taken: readonly number[]): Promise<number[]> {
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      held.push(server);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      if (port !== 0 && !taken.includes(port)) ports.push(port);
    }
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
  return ports;
}
