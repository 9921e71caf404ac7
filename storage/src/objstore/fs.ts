import { randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { StorageError, StorageErrorCode } from '../errors.js';
import {
  type ByteRange,
  checkKey,
  checkRange,
  foldPrefixes,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from './object-store.js';
import { fromSource, SourceFailure } from './source-failure.js';

/** Temporary files of puts in progress start with this; listings skip them. */
const TMP_PREFIX = '.tmp-';

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e
    ? String((e as { code: unknown }).code)
    : undefined;
}

function ioError(action: string, key: string, e: unknown): StorageError {
  return new StorageError(StorageErrorCode.Io, `${action}: ${e instanceof Error ? e.message : String(e)}`, {
    key,
    cause: e,
  });
}

/**
 * An object store in a directory: one file per key. A put writes a temporary
 * file, fsyncs it, and renames it into place (or links it, for a create-only
 * put, so that an existing key is never replaced), then fsyncs the directory.
 */
export class FsObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    checkKey(key);
    return join(this.root, ...key.split('/'));
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const p = this.path(key);
    checkRange(key, range);
    let fh: FileHandle | undefined;
    try {
      fh = await open(p, 'r');
      const size = (await fh.stat()).size;
      const start = Math.min(range?.offset ?? 0, size);
      const end = range === undefined ? size : Math.min(start + range.length, size);
      const out = new Uint8Array(end - start);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await fh.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === out.length ? out : out.subarray(0, done);
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
        throw new StorageError(StorageErrorCode.NotFound, 'get object: no such key', { key, cause: e });
      }
      throw ioError('get object', key, e);
    } finally {
      await fh?.close();
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    await this.writeAtomically(key, options, async (fh) => {
      await fh.writeFile(body);
      return body.length;
    });
  }

  putStream(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<number> {
    return this.writeAtomically(key, options, async (fh) => {
      let n = 0;
      for await (const chunk of fromSource(body)) {
        for (let done = 0; done < chunk.length; ) {
          const { bytesWritten } = await fh.write(chunk, done, chunk.length - done);
          done += bytesWritten;
        }
        n += chunk.length;
      }
      return n;
    });
  }

  /** Writes a temp file beside the key with `write`, syncs it, then renames (or links, for a create) it into place. */
  private async writeAtomically(
    key: string,
    options: PutOptions,
    write: (fh: FileHandle) => Promise<number>,
  ): Promise<number> {
    const p = this.path(key);
    const dir = dirname(p);
    const tmp = join(dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let written: number;
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(tmp, 'wx');
      try {
        written = await write(fh);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (options.ifNoneMatch === true) {
        // link() fails with EEXIST atomically when the key is there already.
        try {
          await link(tmp, p);
        } finally {
          await unlink(tmp).catch(() => {});
        }
      } else {
        await rename(tmp, p);
      }
      await syncDir(dir);
      return written;
    } catch (e) {
      await unlink(tmp).catch(() => {});
      if (e instanceof SourceFailure) throw e.source;
      if (errno(e) === 'EEXIST') {
        throw new StorageError(StorageErrorCode.PreconditionFailed, 'put object: key exists', {
          key,
          cause: e,
        });
      }
      throw ioError('put object', key, e);
    }
  }

  list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const all = this.walk(prefix);
    return options.recursive === true ? all : foldPrefixes(prefix, all);
  }

  /** Every object under the prefix in key order, walking only directories the prefix can match. */
  private async *walk(prefix: string): AsyncIterable<ObjectInfo> {
    // Start at the deepest directory the prefix names completely.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash + 1);
    yield* this.walkDir(base, prefix);
  }

  private async *walkDir(dirKey: string, prefix: string): AsyncIterable<ObjectInfo> {
    const dirPath = dirKey === '' ? this.root : join(this.root, ...dirKey.slice(0, -1).split('/'));
    let names: string[];
    try {
      names = await readdir(dirPath);
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw ioError('list objects', dirKey, e);
    }
    // A directory "a" sorts as "a/" among keys, so compare with the slash.
    const entries: { key: string; dir: boolean; size: number; mtime: number }[] = [];
    for (const name of names) {
      if (name.startsWith(TMP_PREFIX)) continue;
      const key = dirKey + name;
      if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(join(dirPath, name));
      } catch (e) {
        if (errno(e) === 'ENOENT') continue;
        throw ioError('list objects', key, e);
      }
      if (st.isDirectory()) entries.push({ key: `${key}/`, dir: true, size: 0, mtime: 0 });
      else if (st.isFile() && key.startsWith(prefix))
        entries.push({ key, dir: false, size: st.size, mtime: Math.floor(st.mtimeMs) });
    }
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const e of entries) {
      if (e.dir) yield* this.walkDir(e.key, prefix);
      else yield { key: e.key, size: e.size, isPrefix: false, lastModified: e.mtime };
    }
  }

  async delete(key: string): Promise<void> {
    const p = this.path(key);
    try {
      await unlink(p);
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw ioError('delete object', key, e);
    }
    // Remove directories left empty so listings do not show empty prefixes.
    let dir = dirname(p);
    while (dir.startsWith(this.root + sep)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const p = this.path(key);
    try {
      const st = await stat(p);
      return st.isFile()
        ? { key, size: st.size, isPrefix: false, lastModified: Math.floor(st.mtimeMs) }
        : undefined;
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw ioError('head object', key, e);
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
