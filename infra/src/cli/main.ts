import { Command } from 'commander';
import { stopWithSupervisor } from '../supervisor/parent-watch.js';
import { roles } from './roles/index.js';

/** Builds the `promstream` command line with every role as a sub-command. */
export function buildProgram(): Command {
  const program = new Command('promstream')
    .description(
      'A Prometheus-compatible metrics and events pipeline with a Kafka log as its backbone.\n' +
        'Each role runs on its own; `up` runs them all on one machine.',
    )
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false });
  for (const role of roles) {
    const command = program.command(role.name).description(role.summary);
    role.configure(command);
  }
  return program;
}

/** Runs the command line with the given arguments (without node and the script). */
export async function main(argv: string[]): Promise<void> {
  stopWithSupervisor();
  await buildProgram().parseAsync(argv, { from: 'user' });
}
