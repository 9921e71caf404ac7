import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Engine, MemoryQuerier } from '@promstream/query';
import { announceSkip, findTool, freePort, waitForPort } from '@promstream/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertingRule } from './alerting-rule.js';
import { RuleGroup } from './group.js';
import { labelsFrom } from './labels-util.js';
import { AlertmanagerNotifier } from './notifier.js';
import { parseRuleFile } from './rule-file.js';

// Alerts sent by the notifier to a real Alertmanager (Debian's
// prometheus-alertmanager): amtool lists them with their labels and
// annotations, and an alert that resolves leaves the active list.

const run = promisify(execFile);
const alertmanager = findTool('prometheus-alertmanager') ?? findTool('alertmanager');
const amtool = findTool('amtool');
if (alertmanager === undefined || amtool === undefined)
  announceSkip(
    'notifier with a real Alertmanager',
    'prometheus-alertmanager is not installed (infra/scripts/debian-packages.sh)',
  );

const RULES = `groups:
  - name: am
    interval: 15s
    rules:
      - alert: DiskFull
        expr: disk_used_ratio > 0.9
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.device }} is {{ $value | humanizePercentage }} full"
`;

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface AmtoolAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

describe.skipIf(alertmanager === undefined || amtool === undefined)(
  'notifier and a real Alertmanager',
  () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'promstream-am-'));
    const logger = pino({ level: 'silent' });
    let child: ChildProcess;
    let url = '';

    beforeAll(async () => {
      const port = await freePort();
      writeFileSync(path.join(dir, 'am.yml'), 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
      child = spawn(
        alertmanager!,
        [
          `--config.file=${path.join(dir, 'am.yml')}`,
          `--storage.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
        ],
        { stdio: 'ignore' },
      );
      url = `http://127.0.0.1:${port}`;
      await waitForPort('127.0.0.1', port, 20_000);
    }, 30_000);

    afterAll(async () => {
      // Alertmanager writes its state on the way out: its folder is removed once it has exited.
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    });

    async function query(): Promise<AmtoolAlert[]> {
      const { stdout } = await run(amtool!, ['alert', 'query', '--alertmanager.url', url, '-o', 'json']);
      return JSON.parse(stdout) as AmtoolAlert[];
    }

    async function waitFor(done: (l: AmtoolAlert[]) => boolean): Promise<AmtoolAlert[]> {
      let listed = await query();
      for (let i = 0; i < 50 && !done(listed); i++) {
        await new Promise((r) => setTimeout(r, 100));
        listed = await query();
      }
      return listed;
    }

    it('sends firing alerts amtool lists, and resolves them', async () => {
      const storage = new MemoryQuerier();
      const disk = labelsFrom({ __name__: 'disk_used_ratio', device: 'sda', instance: 'db-1' });
      // Two evaluations 15 s apart, the second one now, so Alertmanager's clock agrees with ours.
      const t1 = Date.now() - 15_000;
      storage.appendFloat(disk, t1 - 1000, 0.95);
      const group = new RuleGroup(parseRuleFile(RULES, 'am.yml').groups[0]!, {
        engine: new Engine(),
        tenant: '',
        source: { querier: async () => storage },
        sink: { write: async () => {} },
      });
      const rule = group.rules[0] as AlertingRule;
      const firing = new AlertmanagerNotifier({ urls: [url], externalLabels: { cluster: 'test' }, logger });
      await group.evaluate(t1);
      firing.alertsEvaluated('', group, rule, t1);
      await firing.stop();
      const listed = await waitFor((l) => l.length > 0);
      expect(listed).toHaveLength(1);
      expect(listed[0]!.labels).toEqual({
        alertname: 'DiskFull',
        severity: 'page',
        device: 'sda',
        instance: 'db-1',
        cluster: 'test',
      });
      expect(listed[0]!.annotations).toEqual({ summary: 'sda is 95% full' });

      // The series drops below the threshold: the alert resolves and is sent at once, ended.
      storage.appendFloat(disk, t1 + 14_000, 0.5);
      await group.evaluate(t1 + 15_000);
      expect([...rule.active.values()].map((a) => a.state)).toEqual(['inactive']);
      const resolving = new AlertmanagerNotifier({
        urls: [url],
        externalLabels: { cluster: 'test' },
        logger,
      });
      resolving.alertsEvaluated('', group, rule, t1 + 15_000);
      await resolving.stop();
      expect(await waitFor((l) => l.length === 0)).toEqual([]);
    }, 30_000);
  },
);
