import http from 'node:http';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { loadConfig, type PromstreamConfig } from './config.js';
import { ConfigError } from './errors.js';

/** The options every data-path role shares, with the config path each one sets. */
export const COMMON_FLAGS: { flag: string; path: string; help: string }[] = [
  {
    flag: '--brokers <list>',
    path: 'kafka.brokers',
    help: 'Kafka bootstrap brokers, host:port,... (KAFKA_BROKERS)',
  },
  { flag: '--registry <url>', path: 'registryUrl', help: 'schema registry URL (SCHEMA_REGISTRY_URL)' },
  {
    flag: '--store <url>',
    path: 'objectStore',
    help: 'object store: file:///path, mem://, s3://bucket/prefix (default <data>/blocks)',
  },
  { flag: '--data <dir>', path: 'dataDir', help: 'data directory (PROMSTREAM_DATA, default ./data)' },
  { flag: '--log-level <level>', path: 'logLevel', help: 'trace, debug, info, warn, error, silent' },
];

/** Adds `--config` and the shared flags to a command. */
export function addCommonFlags(command: Command): Command {
  command.option('--config <file>', 'YAML configuration file (PROMSTREAM_CONFIG)');
  for (const f of COMMON_FLAGS) command.option(f.flag, f.help);
  return command;
}

/**
 * Loads the configuration for a role from its parsed flags: `extra` maps
 * further flag names (commander's camelCase) to config paths. A bad value
 * ends the process with every problem listed, not a stack trace.
 */
export function roleConfig(
  opts: Record<string, unknown>,
  extra: Record<string, string> = {},
): PromstreamConfig {
  const flags: Record<string, unknown> = {};
  for (const f of COMMON_FLAGS) {
    const name = camel(f.flag.split(' ')[0]!.replace(/^--/, ''));
    if (opts[name] !== undefined) flags[f.path] = opts[name];
  }
  for (const [name, path] of Object.entries(extra)) if (opts[name] !== undefined) flags[path] = opts[name];
  try {
    return loadConfig({ file: opts.config as string | undefined, flags });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Serves `/metrics` of a registry on a port; resolves to a closer. */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
): Promise<() => Promise<void>> {
  const server = http.createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Runs `stop` once on SIGINT or SIGTERM, then exits. */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop did not complete');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGINT', () => handler('SIGINT'));
}
