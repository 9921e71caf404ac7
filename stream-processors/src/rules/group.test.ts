import { Engine, MemoryQuerier } from '@promstream/query';
import { describe, expect, it } from 'vitest';
import type { AlertingRule } from './alerting-rule.js';
import { RuleGroup } from './group.js';
import { labelsFrom } from './labels-util.js';
import { parseRuleFile } from './rule-file.js';
import type { RuleSample } from './seams.js';

const MIN = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MIN);

function groupOf(yaml: string, storage: MemoryQuerier, written: RuleSample[], restore = false): RuleGroup {
  const parsed = parseRuleFile(yaml, 'rules.yml');
  expect(parsed.errors).toEqual([]);
  return new RuleGroup(parsed.groups[0]!, {
    engine: new Engine(),
    tenant: 't',
    source: { querier: async () => storage },
    sink: {
      write: async (_tenant, samples) => {
        written.push(...samples);
        for (const s of samples) storage.appendFloat(s.labels, s.t, s.v);
      },
    },
    restore,
  });
}

describe('rule group', () => {
  it('records each rule, keeps going past a failing one and reports its error', async () => {
    const storage = new MemoryQuerier();
    for (const i of ['a', 'b']) storage.appendFloat(labelsFrom({ __name__: 'up', instance: i }), T0, 1);
    const written: RuleSample[] = [];
    const g = groupOf(
      `groups:
- name: g
  rules:
  - record: total
    expr: sum(up)
  - record: broken
    expr: up * on() up
  - record: doubled
    expr: total * 2
`,
      storage,
      written,
    );
    await g.evaluate(T0);
    expect(g.health.map((h) => h.health)).toEqual(['ok', 'err', 'ok']);
    expect(g.health[1]!.lastError).toMatch(/many-to-many/);
    expect(written.map((s) => [s.labels.map((l) => l.value).join(','), s.v])).toEqual([
      ['total', 2],
      ['doubled', 4],
    ]);
  });

  it('marks a series stale when its rule stops returning it', async () => {
    const storage = new MemoryQuerier();
    storage.appendFloat(labelsFrom({ __name__: 'up', instance: 'a' }), T0, 1);
    const written: RuleSample[] = [];
    const g = groupOf('groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n', storage, written);
    await g.evaluate(T0);
    await g.evaluate(T0 + 10 * MIN);
    expect(written).toHaveLength(2);
    expect(Number.isNaN(written[1]!.v)).toBe(true);
    expect(written[1]!.t).toBe(T0 + 10 * MIN);
  });

  it('restores how long an alert was pending from ALERTS_FOR_STATE', async () => {
    const storage = new MemoryQuerier();
    const up = labelsFrom({ __name__: 'up', job: 'x' });
    for (let t = T0 - 40 * MIN; t <= T0 + 40 * MIN; t += MIN) storage.appendFloat(up, t, 0);
    // Before the restart the alert had been active since T0 - 20m; the last write was at T0 - 5m.
    storage.appendFloat(
      labelsFrom({ __name__: 'ALERTS_FOR_STATE', alertname: 'Down', job: 'x' }),
      T0 - 5 * MIN,
      (T0 - 20 * MIN) / 1000,
    );
    const written: RuleSample[] = [];
    const g = groupOf(
      'groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 30m\n',
      storage,
      written,
      true,
    );
    await g.evaluate(T0);
    expect(written).toEqual([]); // Nothing is written before the state is restored.
    const rule = g.rules[0] as AlertingRule;
    // Pending 15m before the outage; the 5m outage moves the start by as much.
    expect(rule.activeAlerts()[0]!.activeAt).toBe(T0 - 15 * MIN);
    await g.evaluate(T0 + 14 * MIN);
    expect(rule.activeAlerts()[0]!.state).toBe('pending');
    await g.evaluate(T0 + 15 * MIN);
    expect(rule.activeAlerts()[0]!.state).toBe('firing');
    const last = written.filter((s) => s.t === T0 + 15 * MIN && s.labels.some((l) => l.value === 'ALERTS'));
    // ALERTS{alertstate="firing"} is 1 and the pending series ends with a stale marker.
    expect(last.map((s) => [s.labels.find((l) => l.name === 'alertstate')!.value, s.v])).toEqual([
      ['firing', 1],
      ['pending', Number.NaN],
    ]);
  });

  it('spreads groups over the interval by a hash of name and file', () => {
    const storage = new MemoryQuerier();
    const g = groupOf('groups:\n- name: g\n  interval: 1m\n  rules: []\n', storage, []);
    const ts = g.evalTimestamp(T0 + 30_000);
    expect(ts).toBeLessThanOrEqual(T0 + 30_000);
    expect(T0 + 30_000 - ts).toBeLessThan(MIN);
    expect(g.evalTimestamp(ts + MIN)).toBe(ts + MIN);
    expect(g.evalTimestamp(ts + MIN - 1)).toBe(ts);
  });
});
