import { createReadStream } from 'node:fs';
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
}

/**
 * Follows the kernel log (/dev/kmsg) and emits the events it recognises.
 * Reading /dev/kmsg needs CAP_SYSLOG where dmesg_restrict is set; without it
 * the source says so once and stops, and the agent goes on without it.
 * Returns a stop function.
 */
export function startKernelSource(options: KernelSourceOptions): () => void {
  const file = options.path ?? '/dev/kmsg';
  let lastSeq = options.afterSeq ?? -1;
  let pending = '';
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 8192 });
  stream.on('data', (chunk: string | Buffer) => {
    // /dev/kmsg returns one record per read; a plain file returns lines.
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith(' ')) continue;
      const rec = parseKmsg(line);
      if (rec === undefined || rec.seq <= lastSeq) continue;
      lastSeq = rec.seq;
      const event = classifyKernelRecord(rec, options.host, options.bootTime);
      if (event !== undefined && event.time >= (options.since ?? 0)) options.emit(event);
    }
  });
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return; // The ring buffer overwrote records we had not read; go on.
    options.logger.warn(
      { path: file, code: err.code },
      err.code === 'EACCES' || err.code === 'EPERM'
        ? 'kernel log source disabled: reading it needs CAP_SYSLOG or root'
        : 'kernel log source stopped',
    );
  });
  return () => stream.destroy();
}
