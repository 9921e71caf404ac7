import http from 'node:http';
import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import { CONFIG_FILE_ENV, loadConfig, type PromstreamConfig } from './config.js';
import { ConfigError } from './errors.js';
import { type ConfigRole, flagAttribute, roleSettings, type Setting, shownValue } from './schema.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function describe(s: Setting): string {
  const shown = s.default === undefined || s.default === '' ? [] : [`default ${shownValue(s, s.default)}`];
  const env = s.env === undefined ? [] : [s.env];
  const extra = [...env, ...shown].join(', ');
  return extra === '' ? s.help : `${s.help} (${extra})`;
}

/**
 * Adds `--config` and the flags of every setting the role takes to a command.
 * Flags have no commander defaults: a value not given on the command line
 * comes from the environment, the file or the schema's default, in that order.
 */
export function addConfigFlags(command: Command, role: ConfigRole): Command {
  command.option('--config <file>', `YAML configuration file (${CONFIG_FILE_ENV})`);
  for (const s of roleSettings(role)) {
    const flag = s.flag as string;
    if (s.kind === 'pairs') command.option(flag, describe(s), collect);
    else command.option(flag, describe(s));
  }
  return command;
}

/** The config keys given on a command line, with the flag that gave each. */
export function flagValues(
  command: Command,
  role: ConfigRole,
): { flags: Record<string, unknown>; flagNames: Record<string, string> } {
  const opts = command.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {};
  for (const s of roleSettings(role)) {
    const attr = flagAttribute(s.flag as string);
    // Only what the user typed: commander's implied `true` of a `--no-x` flag is no value.
    if (command.getOptionValueSource(attr) !== 'cli') continue;
    flags[s.key] = opts[attr];
    flagNames[s.key] = (s.flag as string).split(' ')[0]!;
  }
  return { flags, flagNames };
}

/** Loads a role's configuration from its file, the environment and its command line. */
export function loadRoleConfig(
  command: Command,
  role: ConfigRole,
  env: Readonly<Record<string, string | undefined>>,
): PromstreamConfig {
  // `config print --config f query` names the file before the role: take it from the parent too.
  const file = command.optsWithGlobals<{ config?: string }>().config;
  return loadConfig({ file, env, ...flagValues(command, role) });
}

/**
 * The configuration of a role about to start. A bad value ends the process
 * with exit code 2 and one line per problem, each naming the key, never a
 * stack trace.
 */
export function roleConfig(command: Command, role: ConfigRole): PromstreamConfig {
  try {
    return loadRoleConfig(command, role, process.env);
  } catch (err) {
    if (err instanceof ConfigError) exitOnConfigError(role, err);
    throw err;
  }
}

/** Prints a ConfigError as one line per problem and exits with code 2. */
export function exitOnConfigError(role: string, err: ConfigError): never {
  const lines = err.problems.length > 0 ? err.problems : [err.message];
  for (const line of lines) process.stderr.write(`promstream ${role}: configuration: ${line}\n`);
  process.exit(2);
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
