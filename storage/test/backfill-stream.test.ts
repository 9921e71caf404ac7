import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom, writeOpenMetricsFile } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackfillProgress,
  backfillText,
  removeStaleSpills,
  storeBlockSink,
} from '../src/block/backfill.js';
import { formatLabels } from '../src/block/labels.js';
import { parseOpenMetrics } from '../src/block/openmetrics.js';
import { BlockReader } from '../src/block/reader.js';
import { textProgress } from '../src/cli/progress.js';
import { newMatcher, ValueType } from '../src/model.js';
import { FsObjectStore } from '../src/objstore/fs.js';

let work: string;
let omFile: string;
let omText: string;
let run = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'promstream-backfill-stream-'));
  omFile = join(work, 'in.om');
  await writeOpenMetricsFile(omFile, { series: 40, spanMs: 6 * 3_600_000, seed: 11 });
  omText = await readFile(omFile, 'utf8');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Streams `file` in small chunks into blocks under a fresh directory. */
async function backfill(file: string, options: Parameters<typeof backfillText>[2] = {}) {
  const dir = join(work, `out-${run++}`);
  const r = await backfillText(
    createReadStream(file, { highWaterMark: 777 }),
    storeBlockSink(new FsObjectStore(dir), ''),
    {
      tmpDir: work,
      ...options,
    },
  );
  return { r, dir };
}

/** Every sample of the blocks under `dir` as `{labels} t v`, sorted. */
async function dump(dir: string): Promise<string[]> {
  const store = new FsObjectStore(dir);
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const r = await BlockReader.open(store, name);
    for (const s of await r.select([newMatcher('=~', '__name__', '.+')], -Infinity, Infinity)) {
      const it = s.iterator();
      while (it.next() === ValueType.Float) out.push(`${formatLabels(s.labels)} ${it.atT()} ${it.at()}`);
      expect(it.err()).toBeUndefined();
    }
  }
  return out.sort();
}

async function writeLines(name: string, lines: string[]): Promise<string> {
  const path = join(work, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('streaming backfill', () => {
  it('writes every sample of a generated file, one block per range, reporting progress', async () => {
    const seen: BackfillProgress[] = [];
    const { r, dir } = await backfill(omFile, { onProgress: (p) => seen.push({ ...p }) });
    const expected = [...parseOpenMetrics(omText)]
      .map((s) => `${formatLabels(s.labels)} ${s.t} ${s.v}`)
      .sort();
    expect(expected.length).toBe(40 * 720);
    expect(await dump(dir)).toEqual(expected);
    expect(r.blocks.length).toBe(4);
    expect(r.samplesRead).toBe(expected.length);
    expect(r.samplesOut).toBe(expected.length);
    expect(r.format).toBe('openmetrics');
    expect(seen.at(-1)).toMatchObject({ phase: 'write', blocks: 4, samplesOut: expected.length });
    expect(seen.some((p) => p.phase === 'read' && p.bytesRead > 0 && p.bytesRead < r.bytesRead)).toBe(true);
    // The spill files are gone.
    expect((await readdir(work)).filter((n) => n.startsWith('promstream-backfill-'))).toEqual([]);
  });

  it('gives the same blocks for shuffled lines, repeated times and the Prometheus text format', async () => {
    const base = await backfill(omFile);
    const lines = omText.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const random = seededRandom(3);
    for (let i = lines.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
    // A repeated time keeps the first value read; these come after the originals.
    const repeats = lines.slice(0, 100).map((l) => l.replace(/ \S+ (\S+)$/, ' 12345 $1'));
    const shuffled = await backfill(await writeLines('shuffled.om', [...lines, ...repeats, '# EOF']));
    expect(shuffled.r.blocks.map((b) => b.ulid)).toEqual(base.r.blocks.map((b) => b.ulid));
    const promFile = join(work, 'in.prom');
    await writeOpenMetricsFile(promFile, {
      series: 40,
      spanMs: 6 * 3_600_000,
      seed: 11,
      format: 'prometheus',
    });
    const prom = await backfill(promFile);
    expect(prom.r.format).toBe('prometheus');
    expect(prom.r.blocks.map((b) => b.ulid)).toEqual(base.r.blocks.map((b) => b.ulid));
  });

  it('stops at a bad line before writing any block, or skips bad lines at the start, middle and end', async () => {
    const base = await backfill(omFile);
    const lines = omText.split('\n');
    lines.pop(); // The empty string after the last newline.
    const eof = lines.pop();
    expect(eof).toBe('# EOF');
    const middle = Math.floor(lines.length / 2);
    const bad = [
      'not a sample',
      ...lines.slice(0, middle),
      'm{a="b"} 1 nope',
      ...lines.slice(middle),
      'm{a="b"',
      '# EOF',
    ];
    const file = await writeLines('bad.om', bad);
    const dir = join(work, 'refused');
    await expect(
      backfillText(createReadStream(file), storeBlockSink(new FsObjectStore(dir), ''), { tmpDir: work }),
    ).rejects.toMatchObject({ code: 'invalid_argument', message: 'line 1: value "a" is not a number' });
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    const skipped = await backfill(file, { skipBadLines: true });
    expect(skipped.r.badLines).toBe(3);
    expect(skipped.r.firstBadLines).toEqual([
      { line: 1, reason: 'value "a" is not a number' },
      { line: middle + 2, reason: 'timestamp "nope" is not seconds' },
      { line: bad.length - 1, reason: 'label set does not end with }' },
    ]);
    expect(skipped.r.blocks.map((b) => b.ulid)).toEqual(base.r.blocks.map((b) => b.ulid));
  });
});

describe('text progress', () => {
  const p: BackfillProgress = {
    phase: 'read',
    bytesRead: 512 * 1024,
    samplesRead: 1000,
    samplesOut: 0,
    blocks: 0,
  };

  it('prints a plain line every ten seconds when not on a terminal', () => {
    let clock = 0;
    const written: string[] = [];
    const bar = textProgress({
      totalBytes: 1024 * 1024,
      now: () => clock,
      stream: { write: (t: string) => written.push(t) },
    });
    bar.update(p);
    clock = 9_999;
    bar.update(p);
    expect(written).toEqual([]);
    clock = 10_000;
    bar.update(p);
    bar.done();
    expect(written).toEqual([
      'read: 0.5 MiB/1.0 MiB read, 1000 samples in (100/s), 0 samples out in 0 blocks\n',
    ]);
  });

  it('redraws a bar in place on a terminal and clears it when done', () => {
    let clock = 0;
    const written: string[] = [];
    const stream = { isTTY: true, write: (t: string) => written.push(t) };
    const bar = textProgress({ totalBytes: 1024 * 1024, now: () => clock, stream });
    clock = 1000;
    bar.update(p);
    bar.done();
    expect(written[0]).toBe(
      `\r\x1b[2Kread [${'#'.repeat(15)}${'.'.repeat(15)}] 50% 0.5 MiB/1.0 MiB read, 1000 samples in (1000/s), 0 samples out in 0 blocks`,
    );
    expect(written[1]).toBe('\r\x1b[2K');
  });
});

describe('spill directories of killed runs', () => {
  it("are removed by the next run; a live run's and other directories stay", async () => {
    const tmp = await mkdtemp(join(work, 'spills-'));
    // A process that has exited: its pid names no process now.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await mkdir(join(tmp, `promstream-backfill-${dead}-abc123`, 'range'), { recursive: true });
    await writeFile(join(tmp, `promstream-backfill-${dead}-abc123`, 'range', 'spill'), 'x');
    await mkdir(join(tmp, `promstream-backfill-${process.pid}-live01`));
    await mkdir(join(tmp, 'promstream-backfill-other'));
    await mkdir(join(tmp, 'unrelated'));
    expect(removeStaleSpills(tmp)).toEqual([`promstream-backfill-${dead}-abc123`]);
    expect((await readdir(tmp)).sort()).toEqual(
      [`promstream-backfill-${process.pid}-live01`, 'promstream-backfill-other', 'unrelated'].sort(),
    );
    // A backfill run removes them itself before it spills.
    await mkdir(join(tmp, `promstream-backfill-${dead}-again1`));
    const out = new FsObjectStore(join(tmp, 'out'));
    await backfillText(createReadStream(omFile), storeBlockSink(out, ''), { tmpDir: tmp });
    expect(await readdir(tmp)).not.toContain(`promstream-backfill-${dead}-again1`);
  });
});
