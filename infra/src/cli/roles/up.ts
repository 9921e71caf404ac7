import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import type { Role } from '../role.js';

/** `promstream up`: every role on one machine, each in its own process, behind one address. */
export const upRole: Role = {
  name: 'up',
  summary:
    'Run everything on one machine: broker, registry, gateway, agent, block builder and query on :9090',
  configure(command: Command): void {
    addConfigFlags(command, 'up').action(async (_opts: unknown, cmd: Command) => {
      const [{ roleConfig }, { runUp }] = await Promise.all([
        import('../../config/index.js'),
        import('../up/run-up.js'),
      ]);
      const config = roleConfig(cmd, 'up');
      await runUp({
        dataDir: config.dataDir,
        host: config.up.host,
        port: config.up.port,
        kafkaPort: config.up.kafkaPort,
        registryPort: config.up.registryPort,
        blockDurationMs: config.blockBuilder.blockDuration,
        outOfOrderWindowMs: config.blockBuilder.outOfOrderWindow,
        agent: config.up.agent,
        logLevel: config.logLevel,
        configFile: cmd.optsWithGlobals<{ config?: string }>().config,
        rollupConfig: config.rollups.configFile === '' ? undefined : config.rollups.configFile,
      });
    });
  },
};
