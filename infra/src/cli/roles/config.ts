import type { Command } from 'commander';
import { CONFIG_FILE_ENV, loadConfig, type PromstreamConfig } from '../../config/config.js';
import { ConfigError } from '../../config/errors.js';
import { printConfig } from '../../config/print.js';
import { addConfigFlags, exitOnConfigError, loadRoleConfig } from '../../config/role-support.js';
import { CONFIG_ROLES, type ConfigRole } from '../../config/schema.js';
import type { Role } from '../role.js';

/** Loads and prints a configuration, or exits with its problems. */
function print(role: string, load: () => PromstreamConfig): void {
  try {
    process.stdout.write(printConfig(load()));
  } catch (err) {
    if (err instanceof ConfigError) exitOnConfigError(role, err);
    throw err;
  }
}

/**
 * `promstream config print [role] [flags]`: the effective configuration, as
 * the role would read it from the file, the environment and the flags, with
 * secrets redacted.
 */
export const configRole: Role = {
  name: 'config',
  summary: 'Print the effective configuration (file, environment, flags; secrets redacted)',
  configure(command: Command): void {
    const printer = command
      .command('print')
      .description(
        'print the configuration a role would run with; give the role and its flags to see their effect',
      )
      .option('--config <file>', `YAML configuration file (${CONFIG_FILE_ENV})`)
      .action((opts: { config?: string }) => {
        print('config print', () => loadConfig({ file: opts.config, env: process.env }));
      });
    for (const role of CONFIG_ROLES) {
      addConfigFlags(printer.command(role).description(`as \`promstream ${role}\` reads it`), role).action(
        (_opts: unknown, cmd: Command) => {
          print(`config print ${role}`, () => loadRoleConfig(cmd, role as ConfigRole, process.env));
        },
      );
    }
  },
};
