import { announceSkip, findTool, freePort } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeTarget } from '../src/agent/scrape/scraper.js';
import { type Started, startTool } from './processes.js';

const exporterTool = findTool('prometheus-node-exporter');
if (exporterTool === undefined) {
  announceSkip(
    'agent scrapes node-exporter',
    'prometheus-node-exporter is not installed (infra/scripts/debian-packages.sh)',
  );
}

describe.runIf(exporterTool !== undefined)('agent scrapes a real exporter', () => {
  let exporter: Started;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    exporter = await startTool(exporterTool!, [`--web.listen-address=127.0.0.1:${port}`], port);
  });
  afterAll(async () => {
    await exporter?.stop();
  });

  it('reads node-exporter (OpenMetrics or text) into labelled series with up=1', async () => {
    const series = await scrapeTarget({ url: `http://127.0.0.1:${port}/metrics`, job: 'node' }, 1_000);
    const byName = (n: string) =>
      series.filter((s) => s.labels.some((l) => l.name === '__name__' && l.value === n));
    expect(byName('up')[0]!.values).toEqual([1]);
    const cpu = byName('node_cpu_seconds_total');
    expect(cpu.length).toBeGreaterThan(0);
    expect(cpu[0]!.labels.map((l) => l.name)).toEqual(['__name__', 'cpu', 'instance', 'job', 'mode']);
    expect(cpu[0]!.labels).toContainEqual({ name: 'instance', value: `127.0.0.1:${port}` });
    expect(cpu[0]!.timestamps).toEqual([1_000]);
    // Labels sorted and unique on every series, as the gateway's validation demands.
    for (const s of series) {
      for (let i = 1; i < s.labels.length; i++) expect(s.labels[i - 1]!.name < s.labels[i]!.name).toBe(true);
    }
  });

  it('records up=0 for a target that does not answer', async () => {
    const dead = await freePort();
    const series = await scrapeTarget({ url: `http://127.0.0.1:${dead}/metrics`, job: 'gone' }, 5, 2_000);
    expect(series).toHaveLength(1);
    expect(series[0]!.values).toEqual([0]);
  });
});
