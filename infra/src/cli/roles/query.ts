import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream query`: the Prometheus HTTP API over the blocks of an object store. */
export const queryRole: Role = {
  name: 'query',
  summary: 'Serve the Prometheus HTTP API (PromQL) over the blocks in an object store',
  configure(command: Command): void {
    addConfigFlags(command, 'query').action(async (_opts: unknown, cmd: Command) => {
      const [{ roleConfig, onShutdown, openStore, objectStoreUrl }, { serveBlocks }, { default: pino }] =
        await Promise.all([import('../../config/index.js'), import('@promstream/query'), import('pino')]);
      const config = roleConfig(cmd, 'query');
      await refuseBusyPorts([{ host: config.query.host, port: config.query.port, flag: '--port' }]);
      const { query: q, blockBuilder: b } = config;
      const logger = pino({ name: 'query', level: config.logLevel });
      const running = await serveBlocks({
        store: openStore(config),
        host: q.host,
        port: q.port,
        defaultTenant: q.defaultTenant,
        maxConcurrentQueries: q.maxConcurrentQueries,
        timeoutMs: q.timeout,
        maxSamples: q.maxSamples,
        catalogRefreshMs: q.catalogRefresh,
        cacheBytes: q.cacheBytes,
        autoDownsampling: q.autoDownsampling,
        readConsistencyTimeoutMs: q.readConsistencyTimeout,
        brokers: q.tailLog ? config.kafka.brokers : undefined,
        registryUrl: config.registryUrl,
        samplesTopic: config.kafka.samplesTopic,
        derivedTopic: config.kafka.derivedTopic === '' ? undefined : config.kafka.derivedTopic,
        // The head places samples by the builder's rules; its state names them once it saved one.
        headRules: {
          blockDuration: b.blockDuration,
          outOfOrderWindow: b.outOfOrderWindow,
          futureGrace: b.futureGrace,
          backfillIdle: b.backfillIdle,
        },
        logger,
      });
      logger.info({ url: running.url, store: objectStoreUrl(config) }, 'serving the Prometheus API');
      // Running evaluations are ended by close(); the bound covers anything else that hangs.
      onShutdown(logger, [{ name: 'query', close: () => running.close() }], { timeoutMs: 5000 });
    });
  },
};
