import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOpenMetricsToLog, type LogSeries, type SeriesSink } from './import-to-log.js';

/** A sink that keeps what it is given (a unit test of the import alone; the log path is in tests/). */
function memorySink(): SeriesSink & { writes: LogSeries[][] } {
  const writes: LogSeries[][] = [];
  return {
    writes,
    async write(_tenant, series) {
      writes.push(series.map((s) => ({ ...s, timestamps: [...s.timestamps], values: [...s.values] })));
      return { records: series.length, bytes: 1 };
    },
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'promstream-to-log-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('text import onto the log', () => {
  const lines = Array.from({ length: 250 }, (_, i) => `m{k="${i % 5}"} ${i} ${1700000000000 + i * 1000}`);

  it('streams Prometheus text in batches, one series entry per series', async () => {
    const file = join(dir, 'ok.prom');
    await writeFile(file, `${lines.join('\n')}\n`);
    const sink = memorySink();
    const r = await importOpenMetricsToLog(file, sink, { batchSamples: 100 });
    expect(r.samples).toBe(250);
    expect(sink.writes.map((w) => w.reduce((n, s) => n + s.timestamps.length, 0))).toEqual([100, 100, 50]);
    expect(sink.writes[0]!.length).toBe(5);
    expect(sink.writes[0]![0]!.labels).toEqual([
      { name: '__name__', value: 'm' },
      { name: 'k', value: '0' },
    ]);
  });

  it('writes nothing from a file with a bad line, or skips and counts bad lines', async () => {
    const file = join(dir, 'bad.prom');
    await writeFile(file, `${[...lines.slice(0, 200), 'm{k="x"} oops 1', ...lines.slice(200)].join('\n')}\n`);
    const sink = memorySink();
    await expect(importOpenMetricsToLog(file, sink, { batchSamples: 100 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('line 201: value "oops" is not a number'),
    });
    expect(sink.writes).toEqual([]);
    const r = await importOpenMetricsToLog(file, sink, { batchSamples: 100, skipBadLines: true });
    expect(r.samples).toBe(250);
    expect(r.badLines).toBe(1);
  });
});
