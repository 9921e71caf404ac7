import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { announceSkip, findTool, prometheusReference, prometheusVersion } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlocksFromOpenMetrics } from '../src/block/backfill.js';
import { SeriesChunker } from '../src/block/chunker.js';
import { formatLabels } from '../src/block/labels.js';
import { BlockReader } from '../src/block/reader.js';
import { type SeriesInput, writeBlock } from '../src/block/writer.js';
import { newMatcher, STALE_NAN, ValueType } from '../src/model.js';
import { FsObjectStore } from '../src/objstore/fs.js';

const run = promisify(execFile);
// Prometheus 3.16's promtool reads our blocks and writes blocks we must read.
// Our backfill reproduces the block layout of Debian's promtool 2.42 byte for
// byte; 3.16 cuts chunks at 120 samples and adds numFloatSamples to meta.json,
// which our writer does not do yet.
const reference = prometheusReference();
const promtool = reference.ok ? reference.backend.promtool : undefined;
const debianPromtool = findTool('promtool');
const debianVersion = debianPromtool === undefined ? undefined : prometheusVersion(debianPromtool);
const debian242 = debianVersion?.startsWith('2.42.') ? debianPromtool : undefined;

interface Sample {
  series: string;
  t: number;
  v: number;
}

function sameValue(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

function parseGoFloat(s: string): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/** Samples as `promtool tsdb dump` prints them, sorted by series then time. */
async function promtoolDump(dir: string, tool = promtool!): Promise<Sample[]> {
  await mkdir(join(dir, 'wal'), { recursive: true });
  const { stdout } = await run(tool, ['tsdb', 'dump', dir], { maxBuffer: 256 * 1024 * 1024 });
  const out: Sample[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const m = /^(\{.*\}) (\S+) (-?\d+)$/.exec(line);
    if (m === null) throw new Error(`dump line does not parse: ${line}`);
    out.push({ series: m[1]!, v: parseGoFloat(m[2]!), t: Number(m[3]) });
  }
  return sortSamples(out);
}

function sortSamples(s: Sample[]): Sample[] {
  return s.sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : a.t - b.t));
}

/** Every sample of every block under `root`, read with our reader. */
async function ourDump(root: string): Promise<Sample[]> {
  const store = new FsObjectStore(root);
  const out: Sample[] = [];
  for (const name of await readdir(root)) {
    if (!/^[0-7][0-9A-Z]{25}$/.test(name)) continue;
    const r = await BlockReader.open(store, name);
    for (const s of await r.select([newMatcher('=~', '__name__', '.+')], -Infinity, Infinity)) {
      const it = s.iterator();
      while (it.next() === ValueType.Float)
        out.push({ series: formatLabels(s.labels), t: it.atT(), v: it.at() });
      expect(it.err()).toBeUndefined();
    }
  }
  return sortSamples(out);
}

function expectSameSamples(ours: Sample[], theirs: Sample[]): void {
  expect(ours.length).toBe(theirs.length);
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i]!;
    const b = theirs[i]!;
    if (a.series !== b.series || a.t !== b.t || !sameValue(a.v, b.v)) {
      expect({ i, ...a }).toEqual({ i, ...b });
    }
  }
}

/** An OpenMetrics text with four shapes over five hours (three 2h blocks), 15s apart with jitter. */
function openMetricsInput(): string {
  let seed = 99;
  const r = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const base = 1_700_003_000_000;
  const lines: string[] = ['# TYPE req counter', '# TYPE temp gauge', '# TYPE up gauge'];
  const n = 1200;
  let c = 0;
  let w = 20;
  const reqs: string[] = [];
  const temps: string[] = [];
  const ups: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = (base + i * 15000 + (i % 7 === 0 ? Math.floor(r() * 900) : 0)) / 1000;
    c += Math.floor(r() * 50);
    w += r() - 0.5;
    reqs.push(`req_total{code="200",path="/a \\"q\\""} ${c} ${t.toFixed(3)}`);
    reqs.push(`req_total{code="500",path="/b"} ${i % 50 === 0 ? 'NaN' : c / 10} ${t.toFixed(3)}`);
    temps.push(`temp{host="h1"} ${w.toFixed(4)} ${t.toFixed(3)}`);
    if (i % 3 === 0) ups.push(`up{host="h${i % 2}"} ${i % 100 === 0 ? '+Inf' : 1} ${t.toFixed(3)}`);
  }
  lines.push(...reqs, ...temps, ...ups, '# EOF', '');
  return lines.join('\n');
}

describe.runIf(promtool !== undefined)('blocks against promtool 3.16', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'promstream-promtool-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("reads promtool 3.16's blocks with exactly promtool's samples", async () => {
    const inFile = join(work, 'in.om');
    await writeFile(inFile, openMetricsInput());
    const theirsDir = join(work, 'theirs');
    await run(promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', inFile, theirsDir]);
    expect((await readdir(theirsDir)).filter((d) => d.length === 26).length).toBeGreaterThanOrEqual(3);
    const theirs = await promtoolDump(theirsDir);
    expect(theirs.length).toBe(1200 * 3 + 400);
    expectSameSamples(await ourDump(theirsDir), theirs);
  });

  it('has promtool analyze and dump our blocks with exactly our samples', async () => {
    const dir = join(work, 'ours');
    const store = new FsObjectStore(dir);
    const base = 1_700_000_000_000;
    const written: Sample[] = [];
    const series: SeriesInput[] = [];
    const shapes: [string, (i: number) => number][] = [
      ['const', () => 42],
      ['counter', (i) => i * 3 + (i % 5)],
      ['noise', (i) => Math.sin(i) * 1e6],
      ['special', (i) => [1.5, STALE_NAN, Number.NaN, Infinity, -Infinity, -0, 5e-324][i % 7]!],
    ];
    for (const [name, f] of shapes) {
      for (let s = 0; s < 5; s++) {
        const labels = [
          { name: '__name__', value: `shape_${name}` },
          { name: 'instance', value: `host-${s}:9100` },
          { name: 'note', value: s === 0 ? 'quote " and \\ slash' : `é${s}` },
        ];
        const chunker = new SeriesChunker(2 * 3600_000);
        for (let i = 0; i < 500; i++) {
          const t = base + i * 10_000 + s;
          chunker.append(t, f(i));
          written.push({ series: formatLabels(labels), t, v: f(i) });
        }
        chunker.flush();
        series.push({ labels, chunks: chunker.chunks });
      }
    }
    const meta = await writeBlock(store, '', series, {
      thanos: { labels: { tenant: 't1' }, downsample: { resolution: 0 }, source: 'promstream' },
      promstream: { partition: 3, minOffset: 100, maxOffset: 199 },
    });
    expect(meta.stats.numSamples).toBe(written.length);

    const { stdout: analyze } = await run(promtool!, ['tsdb', 'analyze', dir, meta.ulid]);
    expect(analyze).toContain(`Block ID: ${meta.ulid}`);
    expect(analyze).toMatch(/Series: 20\b/);
    const { stdout: list } = await run(promtool!, ['tsdb', 'list', dir]);
    expect(list).toContain(meta.ulid);
    expect(list).toMatch(new RegExp(`${meta.ulid}\\s+${meta.minTime}\\s+${meta.maxTime}`));

    expectSameSamples(await promtoolDump(dir), sortSamples(written));
    expectSameSamples(await ourDump(dir), sortSamples([...written]));
  });
});

if (!reference.ok) announceSkip('blocks against promtool 3.16', reference.reason);

describe.runIf(debian242 !== undefined)("backfill against Debian's promtool 2.42", () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'promstream-promtool-242-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('backfills the same blocks, byte for byte bar the ULID', async () => {
    const input = openMetricsInput();
    const inFile = join(work, 'in.om');
    await writeFile(inFile, input);
    const theirsDir = join(work, 'theirs');
    await run(debian242!, ['tsdb', 'create-blocks-from', 'openmetrics', inFile, theirsDir]);
    const theirBlocks = (await readdir(theirsDir)).filter((d) => d.length === 26);
    expect(theirBlocks.length).toBeGreaterThanOrEqual(3);
    expectSameSamples(await ourDump(theirsDir), await promtoolDump(theirsDir, debian242!));
    const oursDir = join(work, 'ours-backfill');
    const metas = await createBlocksFromOpenMetrics(input, new FsObjectStore(oursDir), '');
    expect(metas.length).toBe(theirBlocks.length);
    for (const name of theirBlocks) {
      const theirMeta = JSON.parse(await readFile(join(theirsDir, name, 'meta.json'), 'utf8'));
      const ours = metas.find((m) => m.minTime === theirMeta.minTime);
      expect(ours, `block at ${theirMeta.minTime}`).toBeDefined();
      expect(ours!.maxTime).toBe(theirMeta.maxTime);
      expect(ours!.stats).toEqual(theirMeta.stats);
      for (const f of ['index', 'chunks/000001']) {
        const a = await readFile(join(theirsDir, name, f));
        const b = await readFile(join(oursDir, ours!.ulid, f));
        expect(Buffer.compare(a, b), `${f} of block ${name}`).toBe(0);
      }
    }
  });
});
if (debian242 === undefined)
  announceSkip(
    "backfill against Debian's promtool 2.42",
    `Debian's promtool 2.42 is not on PATH (found ${debianVersion ?? 'none'}; infra/scripts/debian-packages.sh installs it)`,
  );
