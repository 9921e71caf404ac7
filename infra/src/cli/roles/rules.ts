import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { refuseBusyPorts } from '../preflight.js';
import type { Role } from '../role.js';

/** `promstream rules test FILE...`: promtool's rule unit tests, with promtool's output and exit code. */
function testCommand(command: Command): void {
  // The role's flags are accepted (and unused) so every form of `promstream rules` takes the same command line.
  addConfigFlags(
    command.command('test <files...>').description('run rule unit-test files (promtool test rules format)'),
    'rules',
  ).action(async (files: string[]) => {
    const { runUnitTestFile } = await import('@promstream/stream-processors/rules');
    let ok = true;
    for (const f of files) {
      const r = await runUnitTestFile(f);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      ok &&= r.ok;
    }
    process.exitCode = ok ? 0 : 1;
  });
}

/** `promstream rules check FILE...`: rule files checked as `promtool check rules` does. */
function checkCommand(command: Command): void {
  addConfigFlags(
    command.command('check <files...>').description('check rule files (promtool check rules)'),
    'rules',
  ).action(async (files: string[]) => {
    const [{ readFile }, { parseRuleFile, checkReport }] = await Promise.all([
      import('node:fs/promises'),
      import('@promstream/stream-processors/rules'),
    ]);
    let ok = true;
    for (const f of files) {
      let text: string;
      try {
        text = await readFile(f, 'utf8');
      } catch (err) {
        process.stderr.write(`Checking ${f}\n  FAILED:\n${f}: ${(err as Error).message}\n`);
        ok = false;
        continue;
      }
      const r = checkReport(f, parseRuleFile(text, f));
      (r.ok ? process.stdout : process.stderr).write(r.text);
      ok &&= r.ok;
    }
    process.exitCode = ok ? 0 : 1;
  });
}

/** `promstream rules`: recording and alerting rules evaluated on the log and the blocks. */
export const rulesRole: Role = {
  name: 'rules',
  summary:
    'Evaluate Prometheus recording and alerting rules; results to promstream.derived.v1, alerts to Alertmanager',
  configure(command: Command): void {
    testCommand(command);
    checkCommand(command);
    addConfigFlags(command, 'rules').action(async (_opts: unknown, cmd: Command) => {
      const [{ roleConfig, onShutdown, openStore }, { startRules }, { default: pino }, prom] =
        await Promise.all([
          import('../../config/index.js'),
          import('@promstream/stream-processors/rules'),
          import('pino'),
          import('prom-client'),
        ]);
      const config = roleConfig(cmd, 'rules');
      const { rules: r, blockBuilder: b } = config;
      await refuseBusyPorts([{ host: r.host, port: r.port, flag: '--port' }]);
      const logger = pino({ name: 'rules', level: config.logLevel });
      const registry = new prom.Registry();
      prom.collectDefaultMetrics({ register: registry });
      const list = (s: string) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '');
      let running: Awaited<ReturnType<typeof startRules>>;
      try {
        running = await startRules({
          brokers: config.kafka.brokers,
          registryUrl: config.registryUrl,
          store: openStore(config),
          samplesTopic: config.kafka.samplesTopic,
          derivedTopic: config.kafka.derivedTopic,
          derivedPartitions: config.kafka.samplesPartitions,
          headRules: {
            blockDuration: b.blockDuration,
            outOfOrderWindow: b.outOfOrderWindow,
            futureGrace: b.futureGrace,
            backfillIdle: b.backfillIdle,
          },
          files: r.files,
          dir: r.dir,
          tenant: r.tenant,
          host: r.host,
          port: r.port,
          evaluationInterval: r.evaluationInterval,
          queryOffset: r.queryOffset,
          outageTolerance: r.outageTolerance,
          forGracePeriod: r.forGracePeriod,
          readTimeout: r.readTimeout,
          alertmanagerUrls: list(r.alertmanagerUrl),
          resendDelay: r.resendDelay,
          externalUrl: r.externalUrl,
          logger,
          registry,
        });
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'start the rules role');
        console.error((err as Error).message);
        process.exit(1);
      }
      const reload = () =>
        running.manager.reload().catch((err: Error) => logger.error({ err: err.message }, 'reload rules'));
      process.on('SIGHUP', () => void reload());
      logger.info({ url: running.url, groups: running.manager.groups().length }, 'rules running');
      onShutdown(logger, [{ name: 'rules', close: () => running.stop() }], { timeoutMs: 10_000 });
    });
  },
};
