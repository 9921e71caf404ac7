import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { announceSkip, prometheusReference } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { parseRuleFile } from './rule-file.js';

// Every file of testdata/check goes through our checks and through Prometheus
// 3.16's `promtool check rules`: both accept it or both reject it, with the
// same messages (positions and YAML parser wording aside).

const run = promisify(execFile);
const dir = path.join(import.meta.dirname, 'testdata', 'check');
// A file named .rules is YAML that biome must not try to format (it is invalid on purpose).
const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.rules'));
const reference = prometheusReference();
if (!reference.ok) announceSkip('rule-file promtool agreement', reference.reason);

/** The problems of a promtool report, without file names and `line:col:` positions. */
function promtoolProblems(file: string, out: string): string[] {
  const lines = out.split('\n').filter((l) => l.startsWith(`${file}: `));
  return lines.map((l) => l.slice(file.length + 2).replace(/^(?:\d+:\d+: )+/, ''));
}

function normalize(problems: readonly string[]): string[] {
  // YAML syntax errors are worded by each parser; the kind is what must agree.
  return [...new Set(problems.map((p) => (p.startsWith('yaml:') ? 'yaml:' : p)))].sort();
}

describe('rule files', () => {
  it('accepts the good files and rejects the bad ones', () => {
    expect(files.length).toBeGreaterThan(15);
    for (const f of files) {
      const parsed = parseRuleFile(readFileSync(path.join(dir, f), 'utf8'), f);
      expect(parsed.errors.length === 0, `${f}: ${parsed.errors.join('; ')}`).toBe(f.startsWith('good-'));
    }
  });

  it('reads groups and rules with their fields', () => {
    const parsed = parseRuleFile(readFileSync(path.join(dir, 'good-recording.yml'), 'utf8'), 'x');
    const g = parsed.groups[0]!;
    expect(g).toMatchObject({
      name: 'node',
      interval: 30_000,
      queryOffset: 60_000,
      limit: 100,
      labels: { team: 'infra' },
    });
    expect(g.rules.map((r) => [r.kind, r.name, r.labels])).toEqual([
      ['record', 'job:up:sum', {}],
      ['record', 'job:http_requests:rate5m', { source: 'recorded' }],
    ]);
    const alert = parseRuleFile(readFileSync(path.join(dir, 'good-alerting.yml'), 'utf8'), 'y').groups[0]!
      .rules[0]!;
    expect([alert.kind, alert.for, alert.keepFiringFor]).toEqual(['alert', 300_000, 60_000]);
  });

  describe.skipIf(!reference.ok)('against promtool check rules (Prometheus 3.16)', () => {
    const promtool = reference.ok ? reference.backend.promtool : '';
    it.each(files)('%s', async (f) => {
      const full = path.join(dir, f);
      let code = 0;
      let out = '';
      try {
        const r = await run(promtool, ['check', 'rules', full]);
        out = r.stdout + r.stderr;
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        code = e.code;
        out = e.stdout + e.stderr;
      }
      const ours = parseRuleFile(readFileSync(full, 'utf8'), full);
      expect(ours.errors.length === 0).toBe(code === 0);
      expect(normalize(ours.errors)).toEqual(normalize(promtoolProblems(full, out)));
    });
  });
});
