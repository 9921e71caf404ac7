/**
 * Imports Prometheus TSDB block directories (promtool output, a Prometheus
 * data directory) into a bucket under `<tenant>/<ULID>/`. A block whose
 * meta.json is already in the bucket is skipped; meta.json goes up last, so
 * an interrupted import leaves no half block that readers take for whole,
 * and running it again finishes the job.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  type BlockMeta,
  encodeMeta,
  isUlid,
  type ObjectStore,
  parseMeta,
  putStream,
  tenantIdProblem,
} from '@promstream/storage';
import { MigrateError } from './errors.js';
import type { MigrateResult, OnProgress } from './progress.js';

/** Options of importBlocks. */
export interface ImportBlocksOptions {
  /** Tenant prefix in the bucket (default "anonymous", the gateway's default tenant). */
  tenant?: string;
  onProgress?: OnProgress;
}

/** A block directory found on disk with its files. */
interface LocalBlock {
  dir: string;
  ulid: string;
  /** Paths relative to the block directory, with '/' separators, meta.json excluded. */
  files: { rel: string; size: number }[];
  metaSize: number;
}

/** The tenant of an import or export, checked with the storage package's tenant-ID rule. */
export function checkTenant(tenant: string): string {
  const problem = tenantIdProblem(tenant);
  if (problem !== undefined) throw new MigrateError('BAD_OPTIONS', problem);
  return tenant;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function listFiles(root: string, dir: string, out: { rel: string; size: number }[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await listFiles(root, p, out);
    else if (e.isFile())
      out.push({ rel: relative(root, p).split(sep).join('/'), size: (await stat(p)).size });
  }
}

/**
 * Block directories under `path`: the path itself when it holds meta.json,
 * otherwise its children named by a ULID that hold meta.json (a Prometheus
 * data directory's wal/, chunks_head/ and `.tmp` directories are left out).
 */
export async function findBlockDirs(path: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    throw new MigrateError('SOURCE_READ', `read block directory ${path}`, { cause: e });
  }
  if (!info.isDirectory()) throw new MigrateError('NOT_A_BLOCK', `${path} is not a directory`);
  if (await exists(join(path, 'meta.json'))) return [path];
  const out: string[] = [];
  for (const e of await readdir(path, { withFileTypes: true })) {
    if (e.isDirectory() && isUlid(e.name) && (await exists(join(path, e.name, 'meta.json')))) {
      out.push(join(path, e.name));
    }
  }
  return out.sort();
}

async function scanBlock(dir: string): Promise<LocalBlock & { meta: BlockMeta }> {
  const metaBytes = await readFile(join(dir, 'meta.json'));
  let meta: BlockMeta;
  try {
    meta = parseMeta(metaBytes, { block: dir });
  } catch (e) {
    throw new MigrateError('NOT_A_BLOCK', `read meta.json of ${dir}`, { cause: e });
  }
  const files: { rel: string; size: number }[] = [];
  await listFiles(dir, dir, files);
  const rest = files.filter((f) => f.rel !== 'meta.json');
  if (!rest.some((f) => f.rel === 'index')) throw new MigrateError('NOT_A_BLOCK', `${dir} has no index file`);
  return { dir, ulid: meta.ulid, files: rest, metaSize: metaBytes.length, meta };
}

/** meta.json as the bucket keeps it: the thanos section added when the block has none. */
export function withThanosSection(meta: BlockMeta, tenant: string, source: string): BlockMeta {
  if (meta.thanos !== undefined) return meta;
  return { ...meta, thanos: { labels: { tenant }, downsample: { resolution: 0 }, source } };
}

/** Copies the blocks under `path` into the store under `<tenant>/<ULID>/`. */
export async function importBlocks(
  path: string,
  store: ObjectStore,
  options: ImportBlocksOptions = {},
): Promise<MigrateResult> {
  const started = performance.now();
  const tenant = checkTenant(options.tenant ?? 'anonymous');
  const blocks = [];
  for (const dir of await findBlockDirs(path)) blocks.push(await scanBlock(dir));
  if (blocks.length === 0) throw new MigrateError('NOT_A_BLOCK', `no blocks under ${path}`);
  const totalBytes = blocks.reduce((n, b) => n + b.metaSize + b.files.reduce((m, f) => m + f.size, 0), 0);
  const result: MigrateResult = { copied: [], skipped: [], bytes: 0, samples: 0, seconds: 0 };
  let done = 0;
  const report = (): void =>
    options.onProgress?.({
      blocks: result.copied.length + result.skipped.length,
      totalBlocks: blocks.length,
      bytes: done,
      totalBytes,
      samples: result.samples,
      skipped: result.skipped.length,
    });
  report();
  for (const b of blocks) {
    const base = `${tenant}/${b.ulid}`;
    const blockBytes = b.metaSize + b.files.reduce((m, f) => m + f.size, 0);
    try {
      if ((await store.head(`${base}/meta.json`)) !== undefined) {
        result.skipped.push(b.ulid);
        result.samples += b.meta.stats.numSamples;
        done += blockBytes;
        report();
        continue;
      }
      for (const f of b.files) {
        // Streamed in 8 MiB reads: a chunk file is never held whole.
        const file = createReadStream(join(b.dir, ...f.rel.split('/')), { highWaterMark: 8 * 1024 * 1024 });
        const n = await putStream(store, `${base}/${f.rel}`, file);
        done += n;
        result.bytes += n;
        report();
      }
      const meta = encodeMeta(withThanosSection(b.meta, tenant, 'promstream-import'));
      await store.put(`${base}/meta.json`, meta);
      done += b.metaSize;
      result.bytes += meta.length;
    } catch (e) {
      if (e instanceof MigrateError) throw e;
      throw new MigrateError('DESTINATION_WRITE', `import block ${b.dir} to ${base}`, { cause: e });
    }
    result.copied.push(b.ulid);
    result.samples += b.meta.stats.numSamples;
    report();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
