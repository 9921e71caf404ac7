/**
 * A 600 MB OpenMetrics file (9,600 series, 6 h at 30 s, 6.9M samples; more
 * than V8's largest string) through `promstream block create-from-openmetrics`
 * and through `promstream import openmetrics -` from stdin into the S3 server.
 * Each command's peak RSS, read from /proc/<pid>/status (VmHWM) while it
 * runs, stays under 512 MB, and the samples of a seeded sample of series
 * equal those of promtool's blocks from the same file. The file is generated
 * in the test's temporary directory and deleted after.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  BlockReader,
  formatLabels,
  newMatcher,
  objectStoreFromUrl,
  tenantStore,
  ValueType,
} from '@promstream/storage';
import {
  announceSkip,
  prometheusReference,
  realS3,
  repoRoot,
  runMeasured,
  seededRandom,
  writeOpenMetricsFile,
} from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const reference = prometheusReference();
const s3 = realS3();
const MB = 1024 * 1024;
const RSS_LIMIT = 512 * MB;
const FAMILIES = 100;

if (!reference.ok) announceSkip('600 MB OpenMetrics import against promtool', reference.reason);
if (!s3.ok) announceSkip('600 MB OpenMetrics import against promtool', s3.reason);

/** `{labels} value t` lines of `promtool tsdb dump` for the selected series of the blocks in `dir`. */
async function promtoolDump(dir: string, selector: string): Promise<string[]> {
  const promtool = reference.ok ? reference.backend.promtool : '';
  await mkdir(path.join(dir, 'wal'), { recursive: true });
  const { stdout } = await run(promtool, ['tsdb', 'dump', `--match=${selector}`, dir], {
    maxBuffer: 512 * MB,
  });
  return stdout.split('\n').filter((l) => l !== '');
}

describe.skipIf(!reference.ok || !s3.ok)('600 MB OpenMetrics file in bounded memory', () => {
  let work: string;
  let file: string;
  let theirs: string;
  let selector: string;
  let expected: string[];
  const prefix = `openmetrics-large-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'promstream-om-large-'));
    file = path.join(work, 'big.om');
    const gen = await writeOpenMetricsFile(file, {
      series: 9600,
      spanMs: 6 * 3_600_000,
      stepMs: 30_000,
      seed: 28,
    });
    expect(gen.samples).toBe(6_912_000);
    expect(gen.bytes).toBeGreaterThan(560 * MB);
    theirs = path.join(work, 'theirs');
    const promtool = reference.ok ? reference.backend.promtool : '';
    await run(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', file, theirs], { maxBuffer: 64 * MB });
    // A seeded sample of three metric families: 288 series, 207,360 samples.
    const random = seededRandom(28);
    const families = [0, 1, 2].map(() => Math.floor(random() * FAMILIES));
    selector = `{__name__=~"node_gen_(${families.join('|')})_total"}`;
    expected = await promtoolDump(theirs, selector);
    expect(expected.length).toBeGreaterThan(96 * 720);
  }, 240_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    if (s3.ok) {
      const store = objectStoreFromUrl(`s3://${s3.backend.bucket}/${prefix}`, s3.backend);
      for await (const o of store.list('', { recursive: true })) await store.delete(o.key);
    }
  });

  it('block create-from-openmetrics stays under 512 MB and writes promtool’s samples', async () => {
    const ours = path.join(work, 'ours');
    const r = await runMeasured(process.execPath, [
      path.join(repoRoot, 'bin', 'promstream.js'),
      'block',
      'create-from-openmetrics',
      '--no-progress',
      '--tmp-dir',
      work,
      file,
      ours,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/6912000 samples.*peak RSS \d+\.\d MiB/);
    console.log(`block create-from-openmetrics: peak RSS ${(r.peakRss / MB).toFixed(1)} MiB`);
    expect(r.peakRss).toBeGreaterThan(0);
    expect(r.peakRss).toBeLessThan(RSS_LIMIT);
    expect((await readdir(ours)).filter((n) => n.length === 26).length).toBe(4);
    expect(await promtoolDump(ours, selector)).toEqual(expected);
  }, 180_000);

  it('import openmetrics from stdin into S3 stays under 512 MB and holds promtool’s samples', async () => {
    const r = await runMeasured(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'promstream.js'),
        'import',
        'openmetrics',
        '-',
        '--store',
        `s3://${s3.ok ? s3.backend.bucket : ''}/${prefix}`,
        '--tenant',
        'big',
        '--no-progress',
        '--tmp-dir',
        work,
      ],
      { stdinFile: file },
    );
    // The AWS SDK may warn about the Node version on stderr; nothing else may be there.
    expect(r.stderr).not.toMatch(/error|bad lines/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 4 blocks \(0 already present\), 6912000 samples/);
    expect(r.stdout).toMatch(/peak RSS \d+\.\d MiB/);
    console.log(`import openmetrics - (S3): peak RSS ${(r.peakRss / MB).toFixed(1)} MiB`);
    expect(r.peakRss).toBeGreaterThan(0);
    expect(r.peakRss).toBeLessThan(RSS_LIMIT);
    const store = tenantStore(
      objectStoreFromUrl(`s3://${s3.ok ? s3.backend.bucket : ''}/${prefix}`, s3.ok ? s3.backend : {}),
      'big',
    );
    const names: string[] = [];
    for await (const o of store.list('')) if (o.isPrefix) names.push(o.key.slice(0, -1));
    expect(names.length).toBe(4);
    const got: string[] = [];
    const matcher = newMatcher('=~', '__name__', selector.slice('{__name__=~"'.length, -'"}'.length));
    for (const name of names.sort()) {
      const block = await BlockReader.open(store, name);
      for (const s of await block.select([matcher], -Infinity, Infinity)) {
        const it = s.iterator();
        while (it.next() === ValueType.Float) got.push(`${formatLabels(s.labels)} ${it.at()} ${it.atT()}`);
        expect(it.err()).toBeUndefined();
      }
    }
    // promtool prints values with Go's %g; compare numbers, not their text.
    const norm = (l: string): string => {
      const m = /^(\{.*\}) (\S+) (-?\d+)$/.exec(l)!;
      return `${m[1]} ${Number(m[2])} ${m[3]}`;
    };
    expect(got.map(norm).sort()).toEqual(expected.map(norm).sort());
  }, 180_000);
});
