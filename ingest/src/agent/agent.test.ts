import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import { BAD_TENANT_IDS } from '@promstream/testkit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestError, IngestErrorCode } from '../errors.js';
import type { EventSink } from '../log/event-sink.js';
import type { SampleBatchSink, SinkResult } from '../log/sample-sink.js';
import type { WriteSeries } from '../remote-write/types.js';
import { type Agent, refusedForGood, startAgent } from './agent.js';
import type { AgentEvent } from './events/event.js';

/** Stands in for the log; `down` makes it refuse as an unreachable log would. */
class Log implements SampleBatchSink, EventSink {
  series: WriteSeries[] = [];
  events: AgentEvent[] = [];
  down = false;
  /** Throws this error (once per write) instead of accepting. */
  failWith: Error | undefined;
  async write(
    tenantOrEvents: string | readonly AgentEvent[],
    series?: readonly WriteSeries[],
  ): Promise<SinkResult> {
    if (this.down) throw new IngestError(IngestErrorCode.LogUnavailable, 'log down');
    if (this.failWith !== undefined) throw this.failWith;
    if (typeof tenantOrEvents === 'string') this.series.push(...(series ?? []));
    else this.events.push(...tenantOrEvents);
    return { records: 1, bytes: 0 };
  }
}

const names = (s: WriteSeries[]) => new Set(s.map((x) => x.labels.find((l) => l.name === '__name__')!.value));

describe('node agent', () => {
  const log = new Log();
  let dir: string;
  let agent: Agent;
  let kmsg: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ingest-agent-'));
    const plugin = path.join(dir, 'plugin.sh');
    // A plugin in shell: answers each `collect` with one gauge, and reports one event at start.
    writeFileSync(
      plugin,
      '#!/bin/sh\necho \'{"kind":"deploy","severity":"notice","message":"v2 rolled out","attributes":{"version":"2"}}\'\nwhile read cmd t; do printf \'# TYPE queue_depth gauge\\nqueue_depth{queue="a"} 7\\nqueue-bad 3\\n# EOF\\n\'; done\n',
    );
    chmodSync(plugin, 0o755);
    kmsg = path.join(dir, 'kmsg');
    writeFileSync(kmsg, `3,10,${(Date.now() + 60_000) * 1000},-;Out of memory: Killed process 12 (x)\n`);
    agent = await startAgent({
      samples: log,
      events: log,
      dataDir: dir,
      host: 'node-1',
      intervalMs: 0,
      port: 0,
      plugins: [{ name: 'queue', command: plugin }],
      kernelLog: kmsg,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('collects host metrics with node_exporter names and sends them to the log', async () => {
    await agent.collect();
    await agent.flush();
    const sent = names(log.series);
    for (const n of ['node_cpu_seconds_total', 'node_memory_MemTotal_bytes', 'node_load1'])
      expect(sent.has(n)).toBe(true);
    const load = log.series.find((s) => s.labels.some((l) => l.value === 'node_load1'))!;
    expect(load.labels).toContainEqual({ name: 'instance', value: 'node-1' });
    expect(load.labels).toContainEqual({ name: 'job', value: 'node' });
  });

  it('keeps samples on disk while the log is down and sends them in order after', async () => {
    log.series = [];
    log.down = true;
    await agent.collect();
    expect(await agent.flush()).toBe(0);
    await agent.collect();
    log.down = false;
    expect(await agent.flush()).toBeGreaterThanOrEqual(2);
    const load = log.series.filter((s) => s.labels.some((l) => l.value === 'node_load1'));
    expect(load).toHaveLength(2);
    expect(load[0]!.timestamps[0]!).toBeLessThanOrEqual(load[1]!.timestamps[0]!);
  });

  it('runs plugins and forwards their samples and events', async () => {
    await expect
      .poll(async () => {
        await agent.collect();
        await new Promise((r) => setTimeout(r, 50));
        await agent.flush();
        return names(log.series).has('queue_depth');
      })
      .toBe(true);
    const q = log.series.find((s) => s.labels.some((l) => l.value === 'queue_depth'))!;
    expect(q.values[0]).toBe(7);
    expect(q.labels).toContainEqual({ name: 'plugin', value: 'queue' });
    const deploy = log.events.find((e) => e.kind === 'deploy');
    expect(deploy).toMatchObject({ source: 'app', severity: 'notice', host: 'node-1' });
    expect(deploy?.attributes.version).toBe('2');
  });

  it('drops invalid series from plugins and counts them', async () => {
    expect(names(log.series).has('queue-bad')).toBe(false);
    const text = await (await fetch(`${agent.url}/metrics`)).text();
    expect(text).toMatch(/^promstream_agent_invalid_series_total [1-9]/m);
  });

  it('keeps entries through unknown errors and drops only what the schema refuses', async () => {
    await agent.collect();
    log.failWith = new Error('socket hang up');
    expect(await agent.flush()).toBe(0);
    log.failWith = new SchemaError(SchemaErrorCode.InvalidRecord, 'does not fit the schema');
    expect(await agent.flush()).toBe(0);
    log.failWith = undefined;
    const before = log.series.length;
    await agent.collect();
    expect(await agent.flush()).toBeGreaterThanOrEqual(1);
    expect(log.series.length).toBeGreaterThan(before);
    const text = await (await fetch(`${agent.url}/metrics`)).text();
    expect(text).toMatch(/^promstream_agent_rejected_entries_total\{kind="samples"\} [1-9]/m);
    expect(refusedForGood(new Error('x'))).toBe(false);
    expect(refusedForGood(new SchemaError(SchemaErrorCode.Registry, 'registry down'))).toBe(false);
    expect(refusedForGood(new IngestError(IngestErrorCode.LogUnavailable, 'down'))).toBe(false);
    expect(refusedForGood(new IngestError(IngestErrorCode.InvalidSeries, 'bad'))).toBe(true);
  });

  it('reports kernel log events', async () => {
    await expect
      .poll(async () => {
        await agent.flush();
        return log.events.some((e) => e.kind === 'oom_kill');
      })
      .toBe(true);
    expect(log.events.find((e) => e.kind === 'oom_kill')?.attributes.process).toBe('x');
  });

  it('exposes what it collects on /metrics and recent samples on the local API', async () => {
    const text = await (await fetch(`${agent.url}/metrics`)).text();
    expect(text).toMatch(/^# TYPE node_load1 gauge$/m);
    expect(text).toMatch(/^node_cpu_seconds_total\{cpu="0",mode="idle"\} \d/m);
    expect(text).toMatch(/^promstream_agent_sent_entries_total\{kind="samples"\} \d/m);
    const body = (await (await fetch(`${agent.url}/api/v1/recent?__name__=node_load1&since=0`)).json()) as {
      data: { samples: [number, number][] }[];
    };
    expect(body.data).toHaveLength(1);
    expect(body.data[0]!.samples.length).toBeGreaterThanOrEqual(3);
  });
});

describe('the agent’s configured tenant', () => {
  it.each(BAD_TENANT_IDS)('refuses to start with $name, before anything reaches the log', async ({ id }) => {
    const log = new Log();
    const dir = mkdtempSync(path.join(tmpdir(), 'ingest-agent-tenant-'));
    try {
      await expect(
        startAgent({
          samples: log,
          events: log,
          dataDir: dir,
          tenant: id,
          intervalMs: 0,
          port: 0,
          kernelLog: false,
          logger: pino({ level: 'silent' }),
        }),
      ).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/agent's tenant/) });
      expect(log.series).toHaveLength(0);
      expect(log.events).toHaveLength(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('samples the buffer held through an outage', () => {
  it('go through the backfill sink once they are late, the fresh ones through the live sink, in order', async () => {
    const live = new Log();
    const backfill = new Log();
    const dir = mkdtempSync(path.join(tmpdir(), 'ingest-agent-late-'));
    let clock = 1_764_000_000_000;
    const agent = await startAgent({
      samples: live,
      backfillSamples: backfill,
      backfillAfterMs: 60_000,
      events: live,
      dataDir: dir,
      host: 'node-2',
      intervalMs: 0,
      port: 0,
      kernelLog: false,
      now: () => clock,
      logger: pino({ level: 'silent' }),
    });
    try {
      live.down = true;
      await agent.collect();
      clock += 20_000;
      await agent.collect();
      clock += 70_000;
      await agent.collect();
      live.down = false;
      expect(await agent.flush()).toBeGreaterThanOrEqual(3);
      const loads = (l: Log) =>
        l.series.filter((s) => s.labels.some((x) => x.value === 'node_load1')).map((s) => s.timestamps[0]);
      // Collected 90 s and 70 s before the send: late; the last one is fresh.
      expect(loads(backfill)).toEqual([1_764_000_000_000, 1_764_000_020_000]);
      expect(loads(live)).toEqual([1_764_000_090_000]);
    } finally {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
