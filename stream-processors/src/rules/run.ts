import { createLogClient } from '@promstream/log';
import { Engine, type ReadPath, startReadPath } from '@promstream/query';
import { createSerdes } from '@promstream/schemas';
import type { ObjectStore, PlacementRules } from '@promstream/storage';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { rulesApi } from './api.js';
import { LogRuleSink } from './log-sink.js';
import { RulesManager } from './manager.js';
import { AlertmanagerNotifier } from './notifier.js';
import { loadTenantRules } from './rule-files.js';

/**
 * The rules role wired to the log and the bucket: rule files read per
 * tenant, every evaluation reading the samples and derived topics' heads
 * and the blocks after a strong read (everything the log acknowledged
 * before it), results written to the derived topic, alerts sent to
 * Alertmanager, and the HTTP API.
 */

/** Options of `promstream rules`. Times in ms. */
export interface StartRulesOptions {
  brokers: string[];
  registryUrl: string;
  store: ObjectStore;
  samplesTopic: string;
  derivedTopic: string;
  /** Partitions of the derived topic when this role creates it. */
  derivedPartitions: number;
  headRules?: PlacementRules;
  /** Comma-separated globs of `tenant`'s rule files. */
  files?: string;
  /** A folder per tenant. */
  dir?: string;
  tenant: string;
  host: string;
  port: number;
  evaluationInterval: number;
  queryOffset?: number;
  outageTolerance?: number;
  forGracePeriod?: number;
  /** How long an evaluation waits for the heads (strong read). */
  readTimeout: number;
  alertmanagerUrls?: string[];
  resendDelay?: number;
  externalUrl?: string;
  externalLabels?: Record<string, string>;
  logger: Logger;
  registry: Registry;
  now?: () => number;
}

/** A running rules role. */
export interface RunningRules {
  url: string;
  manager: RulesManager;
  stop(): Promise<void>;
}

/** Starts the rules role. */
export async function startRules(options: StartRulesOptions): Promise<RunningRules> {
  const { logger } = options;
  const load = () => loadTenantRules({ globs: options.files, dir: options.dir, tenant: options.tenant });
  // Bad rule files stop the start here, before anything connects.
  await load();
  const client = createLogClient({ clientId: 'promstream-rules', brokers: options.brokers, logger });
  const producer = client.producer({
    ensureTopics: [{ topic: options.derivedTopic, partitions: options.derivedPartitions }],
  });
  const serde = createSerdes({ registryUrl: options.registryUrl }).sampleBatch;
  let read: ReadPath | undefined;
  const stopAll: (() => Promise<void>)[] = [];
  try {
    read = await startReadPath({
      store: options.store,
      brokers: options.brokers,
      registryUrl: options.registryUrl,
      topics: [options.samplesTopic, options.derivedTopic],
      logger,
      registry: options.registry,
      headRules: options.headRules,
    });
    const path = read;
    stopAll.push(() => path.stop());
    const notifier =
      options.alertmanagerUrls !== undefined && options.alertmanagerUrls.length > 0
        ? new AlertmanagerNotifier({
            urls: options.alertmanagerUrls,
            resendDelay: options.resendDelay,
            externalLabels: options.externalLabels,
            externalURL: options.externalUrl,
            logger,
            registry: options.registry,
          })
        : undefined;
    if (notifier !== undefined) stopAll.push(() => notifier.stop());
    const manager = new RulesManager({
      engine: new Engine(),
      source: {
        querier: async (tenant) => {
          await path.waitForLatest(options.readTimeout);
          return path.querier(tenant);
        },
      },
      sink: new LogRuleSink({ producer, serde, topic: options.derivedTopic, now: options.now }),
      load,
      defaultInterval: options.evaluationInterval,
      defaultQueryOffset: options.queryOffset,
      outageTolerance: options.outageTolerance,
      forGracePeriod: options.forGracePeriod,
      externalLabels: options.externalLabels,
      externalURL: options.externalUrl,
      listener: notifier,
      logger,
      registry: options.registry,
      now: options.now,
    });
    await manager.start();
    stopAll.unshift(() => manager.stop());
    const app = Fastify({ logger: false });
    await app.register(rulesApi, { manager, registry: options.registry, defaultTenant: options.tenant });
    const url = await app.listen({ host: options.host, port: options.port });
    stopAll.unshift(() => app.close());
    return {
      url,
      manager,
      stop: async () => {
        for (const stop of stopAll) await stop();
        await client.close();
      },
    };
  } catch (err) {
    for (const stop of stopAll) await stop().catch(() => undefined);
    await client.close();
    throw err;
  }
}
