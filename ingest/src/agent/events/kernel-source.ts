import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AgentEvent } from './event.js';
import { classifyKernelRecord, parseKmsg } from './kernel-log.js';

/** Options of the kernel log source. */
export interface KernelSourceOptions {
  host: string;
  /** Boot time in ms since the epoch, to turn kernel timestamps into wall time. */
  bootTime: number;
  emit(event: AgentEvent): void;
  logger: Logger;
  /** /dev/kmsg unless a test gives a file. */
  path?: string;
  /** Records with a sequence number at or below this one were already reported. */
  afterSeq?: number;
  /** Records older than this (ms since the epoch) are history, not news, and are skipped. */
  since?: number;
  /** How long to wait when there is nothing new to read. */
  pollMs?: number;
}

const isErrno = (err: unknown, ...codes: string[]) =>
  codes.includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Follows the kernel log (/dev/kmsg) and emits the events it recognises.
 * The device is opened non-blocking and polled: a blocking read would hold a
 * libuv pool thread until the next kernel message and keep the process from
 * exiting. Reading it needs CAP_SYSLOG where dmesg_restrict is set; without
 * it the source says so once and stops, and the agent goes on without it.
 * Returns a stop function.
 */
export function startKernelSource(options: KernelSourceOptions): () => void {
  const file = options.path ?? '/dev/kmsg';
  const pollMs = options.pollMs ?? 1000;
  let lastSeq = options.afterSeq ?? -1;
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const handle = (text: string) => {
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith(' ')) continue;
      const rec = parseKmsg(line);
      if (rec === undefined || rec.seq <= lastSeq) continue;
      lastSeq = rec.seq;
      const event = classifyKernelRecord(rec, options.host, options.bootTime);
      if (event !== undefined && event.time >= (options.since ?? 0)) options.emit(event);
    }
  };

  void (async () => {
    let fh: FileHandle;
    try {
      fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      options.logger.warn(
        { path: file, code: (err as NodeJS.ErrnoException).code },
        isErrno(err, 'EACCES', 'EPERM')
          ? 'kernel log source disabled: reading it needs CAP_SYSLOG or root'
          : 'kernel log source disabled',
      );
      return;
    }
    const buf = Buffer.alloc(16384);
    let pending = '';
    try {
      while (!stopped) {
        let n: number;
        try {
          // /dev/kmsg returns one whole record per read; a plain file returns lines.
          ({ bytesRead: n } = await fh.read(buf, 0, buf.length, null));
        } catch (err) {
          if (isErrno(err, 'EAGAIN')) {
            await sleep();
            continue;
          }
          // The ring buffer overwrote records we had not read yet; go on from the oldest kept.
          if (isErrno(err, 'EPIPE')) continue;
          throw err;
        }
        if (n === 0) {
          await sleep();
          continue;
        }
        pending += buf.toString('utf8', 0, n);
        const end = pending.lastIndexOf('\n');
        if (end < 0) continue;
        handle(pending.slice(0, end));
        pending = pending.slice(end + 1);
      }
    } catch (err) {
      options.logger.warn({ path: file, err: (err as Error).message }, 'kernel log source stopped');
    } finally {
      await fh.close().catch(() => {});
    }
  })();

  return () => {
    stopped = true;
    wake?.();
  };
}
