import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** Splits `name=value` pairs (the loader checked their shape). */
function pairs(list: readonly string[]): [string, string][] {
  return list.map((s) => {
    const i = s.indexOf('=');
    return [s.slice(0, i), s.slice(i + 1)];
  });
}

/** `promstream agent`: the node agent (host collectors, events, exporter scraping, plugins, disk buffer). */
export const agentRole: Role = {
  name: 'agent',
  summary: 'Collect host metrics and kernel/OS events, scrape exporters, run plugins, and publish to the log',
  configure(command: Command): void {
    addConfigFlags(command, 'agent').action(async (_opts: unknown, cmd: Command) => {
      const [{ roleConfig, onShutdown }, { startAgent, createLogWriters }, { default: pino }, path] =
        await Promise.all([
          import('../../config/index.js'),
          import('@promstream/ingest'),
          import('pino'),
          import('node:path'),
        ]);
      const config = roleConfig(cmd, 'agent');
      await refuseBusyPorts([{ host: config.agent.host, port: config.agent.port, flag: '--port' }]);
      const logger = pino({ name: 'agent', level: config.logLevel });
      const writers = createLogWriters({
        brokers: config.kafka.brokers,
        registryUrl: config.registryUrl,
        samplePartitions: config.kafka.samplesPartitions,
        clientId: 'promstream-agent',
        logger,
      });
      const { agent: a } = config;
      const agent = await startAgent({
        samples: writers.samples,
        // Samples the buffer held through an outage go as backfill once a live range may be cut:
        // after half the builder's out-of-order window, a minute at most.
        backfillSamples: writers.backfillSamples,
        backfillAfterMs: Math.min(60_000, Math.floor(config.blockBuilder.outOfOrderWindow / 2)),
        events: writers.events,
        dataDir: path.join(config.dataDir, 'agent'),
        tenant: a.tenant,
        host: a.hostname,
        intervalMs: a.interval,
        port: a.port,
        listenHost: a.host,
        bufferBytes: a.bufferBytes,
        scrapeTargets: pairs(a.scrape).map(([job, url]) => ({ job, url })),
        plugins: pairs(a.plugins).map(([name, cmd]) => ({ name, command: 'sh', args: ['-c', cmd] })),
        kernelLog: a.kernelLog ? undefined : false,
        logger,
      });
      logger.info({ url: agent.url, brokers: config.kafka.brokers }, 'agent running');
      onShutdown(logger, [
        { name: 'agent', close: () => agent.close() },
        { name: 'log producer', close: () => writers.producer.close() },
      ]);
    });
  },
};
