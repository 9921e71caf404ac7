import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { announceSkip, prometheusReference } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, formatExpr, promqlSyntax, type QueryServer, startQueryServer } from '../src/index.js';
import { ArrayQuerier, labelsOf } from './support/array-querier.js';

// Prometheus 3.16's promtool (Prometheus' own Go client) pointed at our API:
// it must decode our answers and print the values we computed.

const run = promisify(execFile);
const reference = prometheusReference();
const promtool = reference.ok ? reference.backend.promtool : undefined;
if (!reference.ok) announceSkip('api-promtool', reference.reason);

const T0 = 1_700_000_000_000;
const ts = Array.from({ length: 21 }, (_, i) => T0 + i * 30_000);
const querier = new ArrayQuerier([
  { labels: labelsOf({ __name__: 'jobs_total', queue: 'fast' }), ts, vs: ts.map((_, i) => i * 60) },
  { labels: labelsOf({ __name__: 'jobs_total', queue: 'slow' }), ts, vs: ts.map((_, i) => i * 3) },
  { labels: labelsOf({ __name__: 'temperature', room: 'lab' }), ts, vs: ts.map((_, i) => 20 + i / 4) },
]);
const END_S = ts.at(-1)! / 1000;

describe.skipIf(promtool === undefined)('promtool query against our API', () => {
  let server: QueryServer;
  beforeAll(async () => {
    server = await startQueryServer({
      engine: new Engine(),
      syntax: promqlSyntax(formatExpr),
      querierFor: () => querier,
      port: 0,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('promtool query instant prints our vector (promql and json output)', async () => {
    const { stdout } = await run(promtool!, [
      'query',
      'instant',
      `--time=${END_S}`,
      server.url,
      'sum by (queue) (rate(jobs_total[5m]))',
    ]);
    expect(stdout).toContain(`{queue="fast"} => 2 @[${END_S}]`);
    expect(stdout).toContain(`{queue="slow"} => 0.1 @[${END_S}]`);
    const json = await run(promtool!, [
      'query',
      'instant',
      '-o',
      'json',
      `--time=${END_S}`,
      server.url,
      'temperature',
    ]);
    expect(JSON.parse(json.stdout)).toEqual([
      { metric: { __name__: 'temperature', room: 'lab' }, value: [END_S, '25'] },
    ]);
  });

  it('promtool query range prints our matrix', async () => {
    const { stdout } = await run(promtool!, [
      'query',
      'range',
      '-o',
      'json',
      `--start=${END_S - 60}`,
      `--end=${END_S}`,
      '--step=30s',
      server.url,
      'temperature * 2',
    ]);
    expect(JSON.parse(stdout)).toEqual([
      {
        metric: { room: 'lab' },
        values: [
          [END_S - 60, '49'],
          [END_S - 30, '49.5'],
          [END_S, '50'],
        ],
      },
    ]);
  });

  it('promtool reports our parse error and exits non-zero', async () => {
    const err = await run(promtool!, ['query', 'instant', server.url, 'sum(']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const { stderr, code } = err as { stderr: string; code: number };
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/bad_data|parse error/);
  });
});
