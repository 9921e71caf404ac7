import fs from 'node:fs';
import type { DurabilityProbe } from './durability-probe.js';

/**
 * Group commit: many appenders ask for their files to reach the disk; one
 * round of fdatasync calls serves everyone who asked before it started, so
 * under load one fsync covers the writes of many connections.
 */
export class Flusher {
  private dirty = new Set<number>();
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private running = false;
  /** fsync rounds done, for the metrics. */
  rounds = 0;

  constructor(private readonly probe?: DurabilityProbe) {}

  /** Resolves once every byte written to these descriptors before the call is durable. */
  sync(fds: Iterable<number>): Promise<void> {
    for (const fd of fds) this.dirty.add(fd);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.round());
      }
    });
  }

  private async round(): Promise<void> {
    const fds = [...this.dirty];
    const waiters = this.waiters;
    this.dirty = new Set();
    this.waiters = [];
    let failure: Error | null = null;
    await Promise.all(
      fds.map(
        (fd) =>
          new Promise<void>((resolve) => {
            this.probe?.synced(fd, 'start');
            fs.fdatasync(fd, (err) => {
              // EBADF: the segment was deleted and its descriptor closed; nothing to keep.
              if (err && err.code !== 'EBADF') failure = err;
              else if (!err) this.probe?.synced(fd, 'done');
              resolve();
            });
          }),
      ),
    );
    this.rounds++;
    for (const w of waiters) {
      if (failure) w.reject(failure);
      else w.resolve();
    }
    if (this.waiters.length > 0) setImmediate(() => void this.round());
    else this.running = false;
  }
}
