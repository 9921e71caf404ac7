/**
 * Progress of a long text import on stderr: a bar redrawn in place on a
 * terminal, a plain line now and then otherwise (logs, CI), and the summary
 * line every command prints at the end, with the peak RSS.
 */
import type { BackfillProgress, BackfillResult } from '../block/backfill.js';

/** Where progress goes: a writable stream, or anything with write and isTTY. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Options of textProgress. */
export interface TextProgressOptions {
  /** Input size in bytes when known (a file), for the bar and the percentage. */
  totalBytes?: number;
  stream?: ProgressStream;
  /** Milliseconds clock, injected so tests need not sleep. */
  now?: () => number;
  /** Milliseconds between plain lines when the stream is not a terminal (default 10 s). */
  lineEvery?: number;
}

const BAR_WIDTH = 30;
/** Redraws of the terminal bar at most this often. */
const REDRAW_MS = 100;

/** Bytes as MiB with one decimal. */
export function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** Peak resident set size of this process in bytes (getrusage's maxrss). */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function describe(p: BackfillProgress, total: number | undefined, seconds: number): string {
  const read = total === undefined ? mib(p.bytesRead) : `${mib(p.bytesRead)}/${mib(total)}`;
  const rate = Math.round(p.samplesRead / Math.max(seconds, 0.001));
  return `${read} read, ${p.samplesRead} samples in (${rate}/s), ${p.samplesOut} samples out in ${p.blocks} blocks`;
}

/** A progress reporter: update() with each progress, done() before the summary. */
export function textProgress(options: TextProgressOptions = {}): {
  update: (p: BackfillProgress) => void;
  done: () => void;
} {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const tty = stream.isTTY === true;
  const every = options.lineEvery ?? 10_000;
  const started = now();
  let shown = started;
  let drawn = false;
  return {
    update(p) {
      const at = now();
      if (at - shown < (tty ? REDRAW_MS : every)) return;
      shown = at;
      const text = describe(p, options.totalBytes, (at - started) / 1000);
      if (!tty) {
        stream.write(`${p.phase}: ${text}\n`);
        return;
      }
      const total = options.totalBytes;
      const done =
        p.phase === 'write' ? 1 : total === undefined || total === 0 ? 0 : Math.min(1, p.bytesRead / total);
      const filled = Math.round(done * BAR_WIDTH);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
      const pct = total === undefined ? '' : ` ${Math.floor(done * 100)}%`;
      stream.write(`\r\x1b[2K${p.phase} ${bar}${pct} ${text}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}

/** The closing line of a text import: what was read and written, how fast, and the peak RSS. */
export function backfillSummary(r: BackfillResult, seconds: number, rssBytes = peakRss()): string {
  const rate = Math.round(r.samplesRead / Math.max(seconds, 0.001));
  const bad = r.badLines === 0 ? '' : `, skipped ${r.badLines} bad lines`;
  return (
    `read ${mib(r.bytesRead)} of ${r.format ?? 'empty'} text (${r.lines} lines, ${r.samplesRead} samples${bad}), ` +
    `wrote ${r.blocks.length} blocks with ${r.samplesOut} samples in ${seconds.toFixed(1)} s ` +
    `(${rate} samples/s), peak RSS ${mib(rssBytes)}`
  );
}

/** The skipped bad lines worth showing, one per line. */
export function badLinesReport(r: BackfillResult): string {
  if (r.badLines === 0) return '';
  const shown = r.firstBadLines.map((b) => `  line ${b.line}: ${b.reason}\n`).join('');
  const more =
    r.badLines > r.firstBadLines.length ? `  ... and ${r.badLines - r.firstBadLines.length} more\n` : '';
  return `skipped ${r.badLines} bad lines:\n${shown}${more}`;
}
