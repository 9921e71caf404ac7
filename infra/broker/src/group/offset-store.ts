import fs from 'node:fs';
import path from 'node:path';
import type { Flusher } from '../log/flusher.js';

/** One committed offset. */
export interface Committed {
  offset: number;
  metadata: string | null;
}

/**
 * Committed consumer-group offsets, kept durably in `group-offsets.log`: one
 * JSON line per commit, appended and fsynced (through the group-commit
 * flusher) before the commit is acknowledged. On start the file is replayed
 * and rewritten with only the latest offset of each partition.
 */
export class OffsetStore {
  private readonly offsets = new Map<string, Map<string, Committed>>();
  private readonly file: string;
  private fd: number;
  private size = 0;

  constructor(
    dataDir: string,
    private readonly flusher: Flusher,
  ) {
    this.file = path.join(dataDir, 'group-offsets.log');
    this.replay();
    this.fd = fs.openSync(this.file, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }

  private replay(): void {
    if (fs.existsSync(this.file)) {
      const text = fs.readFileSync(this.file, 'utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        try {
          const c = JSON.parse(line) as {
            g: string;
            t: string;
            p: number;
            o: number;
            m: string | null;
            deleted?: true;
          };
          if (c.deleted === true) this.offsets.delete(c.g);
          else this.put(c.g, c.t, c.p, { offset: c.o, metadata: c.m });
        } catch {
          // A torn last line from a crash: the commit was never acknowledged.
        }
      }
    }
    const lines: string[] = [];
    for (const [g, parts] of this.offsets) {
      for (const [tp, c] of parts) {
        const cut = tp.lastIndexOf(':');
        lines.push(
          JSON.stringify({
            g,
            t: tp.slice(0, cut),
            p: Number(tp.slice(cut + 1)),
            o: c.offset,
            m: c.metadata,
          }),
        );
      }
    }
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
  }

  private put(group: string, topic: string, partition: number, c: Committed): void {
    let g = this.offsets.get(group);
    if (g === undefined) {
      g = new Map();
      this.offsets.set(group, g);
    }
    g.set(`${topic}:${partition}`, c);
  }

  /** Stores commits and resolves once they are on disk. */
  async commit(
    group: string,
    commits: Array<{ topic: string; partition: number; offset: number; metadata: string | null }>,
  ): Promise<void> {
    if (commits.length === 0) return;
    const text = commits
      .map((c) => `${JSON.stringify({ g: group, t: c.topic, p: c.partition, o: c.offset, m: c.metadata })}\n`)
      .join('');
    const buf = Buffer.from(text);
    fs.writeSync(this.fd, buf, 0, buf.length, this.size);
    this.size += buf.length;
    for (const c of commits)
      this.put(group, c.topic, c.partition, { offset: c.offset, metadata: c.metadata });
    await this.flusher.sync([this.fd]);
  }

  /** Forgets every offset of a group, durably (a tombstone line), and resolves once it is on disk. */
  async deleteGroup(group: string): Promise<void> {
    if (!this.offsets.delete(group)) return;
    const buf = Buffer.from(`${JSON.stringify({ g: group, deleted: true })}\n`);
    fs.writeSync(this.fd, buf, 0, buf.length, this.size);
    this.size += buf.length;
    await this.flusher.sync([this.fd]);
  }

  get(group: string, topic: string, partition: number): Committed | undefined {
    return this.offsets.get(group)?.get(`${topic}:${partition}`);
  }

  /** Every committed partition of a group, as topic -> partitions. */
  all(group: string): Map<string, Array<{ partition: number; committed: Committed }>> {
    const out = new Map<string, Array<{ partition: number; committed: Committed }>>();
    for (const [tp, c] of this.offsets.get(group) ?? []) {
      const cut = tp.lastIndexOf(':');
      const topic = tp.slice(0, cut);
      const list = out.get(topic) ?? [];
      list.push({ partition: Number(tp.slice(cut + 1)), committed: c });
      out.set(topic, list);
    }
    return out;
  }

  groups(): string[] {
    return [...this.offsets.keys()];
  }

  close(): void {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}
