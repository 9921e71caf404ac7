import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BlockCatalog,
  BlockReader,
  blockSeries,
  FsObjectStore,
  SeriesChunker,
  tenantStore,
  ValueType,
  writeBlock,
  XorIterator,
} from '@promstream/storage';
import { supersededBlocks } from '@promstream/stream-processors';
import { repoRoot } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Runs the command line from source (no build needed), as `promstream <args>`. */
function promstream(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = path.join(repoRoot, 'infra', 'src', 'cli', 'main.ts');
  const script = `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); });`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@promstream/source', '--import', 'tsx', '-e', script, ...args],
      { cwd: repoRoot },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
      },
    );
  });
}

const H = 3600 * 1000;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'promstream-cli-compactor-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function seed(store: FsObjectStore, hours: number): Promise<void> {
  for (let from = 0; from < hours * H; from += 2 * H) {
    const ch = new SeriesChunker(2 * H);
    for (let t = from; t < from + 2 * H; t += 60_000) ch.append(t, t / 1000);
    ch.flush();
    await writeBlock(store, 'tenant-a', [{ labels: [{ name: '__name__', value: 'x' }], chunks: ch.chunks }], {
      minTime: from,
      maxTime: from + 2 * H,
    });
  }
}

/**
 * The times of every sample in live raw blocks, sorted (duplicates kept, so a
 * double shows). Blocks another block supersedes are left out, as Thanos'
 * readers drop them: between a compaction's upload and its deletion marks
 * both the sources and the output are live.
 */
async function rawTimes(store: FsObjectStore): Promise<number[]> {
  const catalog = new BlockCatalog(tenantStore(store, 'tenant-a'));
  const out: number[] = [];
  const it = new XorIterator();
  const snap = await catalog.refresh();
  const superseded = new Set(supersededBlocks(snap.all).map((m) => m.ulid));
  for (const b of snap.all) {
    if (b.deletionMark !== undefined || b.resolution !== 0 || superseded.has(b.meta.ulid)) continue;
    for await (const s of blockSeries(await BlockReader.open(catalog.store, b.meta.ulid, b.meta))) {
      for (const c of s.chunks) {
        it.reset(c.bytes);
        while (it.next() === ValueType.Float) {
          expect(it.at()).toBe(it.atT() / 1000);
          out.push(it.atT());
        }
      }
    }
  }
  return out.sort((a, b) => a - b);
}

/** Starts the command line and kills it with SIGKILL after `ms`; resolves when it is gone. */
function killedAfter(args: string[], ms: number): Promise<void> {
  const main = path.join(repoRoot, 'infra', 'src', 'cli', 'main.ts');
  const script = `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1)));`;
  const child = spawn(
    process.execPath,
    ['--conditions=@promstream/source', '--import', 'tsx', '-e', script, ...args],
    {
      cwd: repoRoot,
      stdio: 'ignore',
    },
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    }),
  );
}

async function live(store: FsObjectStore): Promise<number[][]> {
  const snap = await new BlockCatalog(tenantStore(store, 'tenant-a')).refresh();
  return snap.all
    .filter((b) => b.deletionMark === undefined)
    .map((b) => [b.resolution, b.meta.minTime / H, b.meta.maxTime / H])
    .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
}

describe('promstream compactor', () => {
  it('--once compacts, downsamples and applies retention per resolution, then exits', async () => {
    const root = path.join(dir, 'bucket');
    const store = new FsObjectStore(root);
    await seed(store, 10);
    const args = [
      'compactor',
      '--store',
      `file://${root}`,
      '--once',
      '--levels',
      '2h,8h',
      '--log-level',
      'silent',
    ];
    const r = await promstream([...args, '--downsample-5m-from', '8h', '--delete-delay', '0']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await live(store)).toEqual([
      [0, 0, 8],
      [0, 8, 10],
      [300000, 0, 8],
    ]);
    // Raw data from 1970 is far past a one-day retention; the 5m block stays (0 keeps forever).
    const r2 = await promstream([...args, '--retention.resolution-raw', '1d', '--delete-delay', '0']);
    expect(r2.code).toBe(0);
    expect(await live(store)).toEqual([[300000, 0, 8]]);
  });

  it('survives kill -9 at random points: the next run finishes the work, nothing lost or doubled', async () => {
    const root = path.join(dir, 'crash');
    const store = new FsObjectStore(root);
    await seed(store, 50);
    const want = await rawTimes(store);
    const args = [
      'compactor',
      '--store',
      `file://${root}`,
      '--once',
      '--levels',
      '2h,8h,2d',
      '--delete-delay',
      '0',
      '--lease-ttl',
      '1s',
      '--log-level',
      'silent',
    ];
    // Start-up alone takes a second or two; kills land from before the first pass to its end.
    let seed32 = 13;
    for (let run = 0; run < 8; run++) {
      seed32 = (seed32 * 1103515245 + 12345) % 2147483648;
      await killedAfter(args, 1500 + (seed32 % 4000));
      // Between kills the bucket answers as before: every sample once.
      expect(await rawTimes(store)).toEqual(want);
    }
    const r = await promstream(args);
    expect(r.code).toBe(0);
    expect(await rawTimes(store)).toEqual(want);
    expect(await live(store)).toEqual([
      [0, 0, 48],
      [0, 48, 50],
      [300000, 0, 48],
    ]);
  }, 180_000);

  it('refuses a bad duration with the flag named', async () => {
    const r = await promstream([
      'compactor',
      '--store',
      `file://${dir}/x`,
      '--once',
      '--delete-delay',
      'soon',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^promstream compactor: configuration: compactor\.deleteDelay: .*flag --delete-delay/,
    );
  });
});
