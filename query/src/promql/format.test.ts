import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { announceSkip, freePort, prometheusReference, waitForPort } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration, formatExpr, formatNumber } from './format.js';
import { parseExpr } from './parser.js';

/** Queries whose formatting we compare with Prometheus' own `/api/v1/format_query`. */
const QUERIES = [
  'sum by(job)(rate(up{job="a"}[5m] offset 1m)) / on(job) group_left(x) count(foo) > bool 2',
  'sum by (job,instance,mode,foobar,aaaaaaaaaaaaaaaaaaaa)(rate(node_cpu_seconds_total{mode!="idle",job=~"node|other"}[5m]))/ ignoring(mode) group_left sum without(mode)(rate(node_cpu_seconds_total[5m]))',
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api",handler=~"/api/v1/.*"}[5m]))) > 0.5 and on() vector(1)',
  'topk(3, x)',
  '1e6 + 0x1f + Inf + 1.5e-7',
  'sum(x) by (a)',
  '-(a)',
  'a[1h30m]',
  '{__name__="a", b="c"}',
  'label_replace(up, "a", "$1", "b", "(.*)")',
  "x{a='b\"c'}",
  'sum without () (x)',
  'sum by () (x)',
  'count_values("v", x)',
  'a unless ignoring(b) c',
  'rate(x[5m:])',
  '(a + b) * c',
  'a - (b - c)',
  '2 ^ 3 ^ 4',
  'foo offset 1w2d',
  'x @ 1.5',
  'x offset 90m',
  'x[14d]',
  'rate(x[5m] offset 1m @ 100)',
  'x[5m:1m] offset 2m',
  'max_over_time((a+b)[5m:])',
  'avg(x) without (a, b)',
  'quantile(0.9, x) by (a)',
  'x > bool on(a) y',
  '0.000001 + 123456 + 1234567',
  'absent(nonexistent{job="myjob",instance=~".*"}) or label_join(up{job="api-server",src1="a",src2="b",src3="c"}, "foo", ",", "src1", "src2", "src3")',
];

describe('formatExpr', () => {
  it('formats numbers and durations as Prometheus prints them', () => {
    // Prometheus 3 prints number literals in plain decimal (Go's 'f' format, shortest digits).
    expect(
      [1e6, 31, Number.POSITIVE_INFINITY, 1.5e-7, 123456, 1e21, 0.0001, -2.5, 1.25e-10].map(formatNumber),
    ).toEqual([
      '1000000',
      '31',
      '+Inf',
      '0.00000015',
      '123456',
      '1000000000000000000000',
      '0.0001',
      '-2.5',
      '0.000000000125',
    ]);
    expect([5_400_000, 9 * 86_400_000, 14 * 86_400_000, 500].map(formatDuration)).toEqual([
      '1h30m',
      '9d',
      '2w',
      '500ms',
    ]);
  });

  it('round-trips: formatted text parses to the same text', () => {
    for (const q of QUERIES) {
      const once = formatExpr(parseExpr(q));
      expect(formatExpr(parseExpr(once)), q).toBe(once);
    }
  });
});

const reference = prometheusReference();
if (!reference.ok) announceSkip("formatExpr against Prometheus 3.16's format_query", reference.reason);

describe.skipIf(!reference.ok)("formatExpr against Prometheus 3.16's format_query", () => {
  let proc: ChildProcess | undefined;
  let dir = '';
  let url = '';

  beforeAll(async () => {
    if (!reference.ok) throw new Error(reference.reason);
    dir = mkdtempSync(join(tmpdir(), 'promstream-format-'));
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
    const port = await freePort();
    proc = spawn(
      reference.backend.prometheus,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    await waitForPort('127.0.0.1', port, 30_000);
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(() => {
    proc?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints every query as Prometheus does', async () => {
    const mismatches: string[] = [];
    for (const q of QUERIES) {
      let body: { status: string; data?: string } = { status: 'pending' };
      // The HTTP port opens a moment before the API answers.
      for (let attempt = 0; attempt < 50; attempt++) {
        const res = await fetch(`${url}/api/v1/format_query`, {
          method: 'POST',
          body: new URLSearchParams({ query: q }),
        }).catch(() => undefined);
        if (res?.ok) {
          body = (await res.json()) as typeof body;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(body.status, q).toBe('success');
      const ours = formatExpr(parseExpr(q));
      if (ours !== body.data)
        mismatches.push(
          `${q}\n  ours:       ${JSON.stringify(ours)}\n  prometheus: ${JSON.stringify(body.data)}`,
        );
    }
    expect(mismatches).toEqual([]);
  });
});
