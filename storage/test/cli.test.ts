import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  analyzeCommand,
  createFromOpenMetricsCommand,
  dumpCommand,
  parseSelector,
} from '../src/cli/block-commands.js';
import { formatGoFloat } from '../src/cli/go-float.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('block commands', () => {
  it('creates blocks from OpenMetrics, dumps them as promtool does, and analyzes them', async () => {
    const d = await mkdtemp(join(tmpdir(), 'promstream-cli-'));
    dirs.push(d);
    const lines: string[] = [];
    for (let i = 0; i < 10; i++)
      lines.push(`cpu_seconds_total{cpu="0",mode="idle"} ${1234567.5 + i} ${1700000000 + i * 15}`);
    lines.push('temp 0.00001 1700000000.5', '# EOF', '');
    await writeFile(join(d, 'in.om'), lines.join('\n'));
    let table = '';
    await createFromOpenMetricsCommand(join(d, 'in.om'), join(d, 'blocks'), {}, (t) => {
      table += t;
    });
    expect(table.split('\n')[1]).toMatch(/^[0-9A-Z]{26}\s+1700000000000\s+1700000135001\s+11\s+2\s+2$/);
    let dump = '';
    await dumpCommand(join(d, 'blocks'), {}, (t) => {
      dump += t;
    });
    const out = dump.trim().split('\n');
    expect(out.length).toBe(11);
    expect(out[0]).toBe('{__name__="cpu_seconds_total", cpu="0", mode="idle"} 1.2345675e+06 1700000000000');
    expect(out[10]).toBe('{__name__="temp"} 1e-05 1700000000500');
    let filtered = '';
    await dumpCommand(join(d, 'blocks'), { match: parseSelector('temp'), minTime: 0, maxTime: 2e12 }, (t) => {
      filtered += t;
    });
    expect(filtered).toBe('{__name__="temp"} 1e-05 1700000000500\n');
    let analysis = '';
    await analyzeCommand(join(d, 'blocks'), undefined, {}, (t) => {
      analysis += t;
    });
    expect(analysis).toMatch(/^Block ID: [0-9A-Z]{26}\n/);
    expect(analysis).toContain('Total Series: 2');
    expect(analysis).toContain('Highest cardinality metric names:\n1 cpu_seconds_total\n1 temp\n');
    await expect(dumpCommand(join(d, 'nothing'), {}, () => {})).rejects.toMatchObject({ code: 'not_found' });
  });

  it('creates blocks from Prometheus text, skipping bad lines with a report, and stops at one without the flag', async () => {
    const d = await mkdtemp(join(tmpdir(), 'promstream-cli-'));
    dirs.push(d);
    const lines = [
      'up{job="a"} 1 1700000000000',
      'up{job="a"} x 1700000015000',
      'up{job="a"} 0 1700000030000',
    ];
    await writeFile(join(d, 'in.prom'), `${lines.join('\n')}\n`);
    let out = '';
    let err = '';
    const progressStream = { write: (t: string) => (err += t) };
    await createFromOpenMetricsCommand(
      join(d, 'in.prom'),
      join(d, 'blocks'),
      { skipBadLines: true, progress: false, progressStream },
      (t) => {
        out += t;
      },
    );
    expect(out.split('\n')[1]).toMatch(/^[0-9A-Z]{26}\s+1700000000000\s+1700000030001\s+2\s+1\s+1$/);
    expect(out).toMatch(
      /read 0\.0 MiB of prometheus text \(3 lines, 2 samples, skipped 1 bad lines\), wrote 1 blocks with 2 samples in .* peak RSS \d+\.\d MiB\n$/,
    );
    expect(err).toBe('skipped 1 bad lines:\n  line 2: value "x" is not a number\n');
    await expect(
      createFromOpenMetricsCommand(join(d, 'in.prom'), join(d, 'none'), { progress: false }, () => {}),
    ).rejects.toMatchObject({ code: 'invalid_argument', message: 'line 2: value "x" is not a number' });
    await expect(
      createFromOpenMetricsCommand(join(d, 'in.prom'), join(d, 'none'), { format: 'csv' }, () => {}),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it("formats floats as Go's %g", () => {
    const cases: [number, string][] = [
      [42, '42'],
      [0.5, '0.5'],
      [123456, '123456'],
      [1234567, '1.234567e+06'],
      [1e21, '1e+21'],
      [0.0001, '0.0001'],
      [0.00001234, '1.234e-05'],
      [-2.5e-300, '-2.5e-300'],
      [Number.NaN, 'NaN'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
      [-0, '-0'],
    ];
    for (const [v, s] of cases) expect(formatGoFloat(v)).toBe(s);
  });

  it('parses selectors, rejecting bad ones', () => {
    const m = parseSelector('up{job="api", instance=~"10\\\\..*",x!=""}');
    expect(m.map((x) => [x.type, x.name, x.value])).toEqual([
      ['=', '__name__', 'up'],
      ['=', 'job', 'api'],
      ['=~', 'instance', '10\\..*'],
      ['!=', 'x', ''],
    ]);
    expect(() => parseSelector('up{job=api}')).toThrowError(/selector/);
    expect(() => parseSelector('{a=~"("}')).toThrowError(/regex/);
  });

  it('refuses a block duration that is not a positive duration', async () => {
    const d = await mkdtemp(join(tmpdir(), 'promstream-cli-'));
    dirs.push(d);
    await writeFile(join(d, 'in.om'), 'up 1 1\n# EOF\n');
    for (const bad of ['2 hours', '0s']) {
      await expect(
        createFromOpenMetricsCommand(join(d, 'in.om'), join(d, 'blocks'), { blockDuration: bad }, () => {}),
      ).rejects.toThrowError(/duration .* is not like 2h/);
    }
  });
});
