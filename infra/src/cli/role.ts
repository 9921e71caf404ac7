import type { Command } from 'commander';

/**
 * One sub-command of `promstream`. Each role lives in its own file under
 * roles/ and loads its implementation lazily, so starting one role does not
 * load the code of the others.
 */
export interface Role {
  /** The sub-command name, as in DESIGN.md's command line. */
  name: string;
  /** One line for `promstream --help`. */
  summary: string;
  /** Adds the role's options and action to its command. */
  configure(command: Command): void;
}
