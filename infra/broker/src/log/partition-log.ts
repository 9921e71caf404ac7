import fs from 'node:fs';
import path from 'node:path';
import { BrokerError } from '../errors.js';
import { type ProducerSnapshot, ProducerStates, snapshotOf, statesFrom } from '../producer-state.js';
import type { FileRange } from '../protocol/writer.js';
import type { DurabilityProbe } from './durability-probe.js';
import type { BatchHeader } from './record-batch.js';
import { Segment, segmentName } from './segment.js';

/** The per-topic settings a partition log obeys. */
export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  retentionMs: number;
  retentionBytes: number;
}

/** What a read returns: whole batches, or nothing when the offset is at the end. */
export interface ReadResult {
  records: Buffer | null;
  highWatermark: number;
  logStartOffset: number;
}

/**
 * One partition: an ordered list of segments, the log start offset (moved
 * by retention and DeleteRecords, kept in a small file) and the log end
 * offset. Appends go to the last segment; reads find the segment by offset.
 */
export class PartitionLog {
  private segments: Segment[] = [];
  logStartOffset = 0;
  private readonly startFile: string;
  private readonly snapshotFile: string;
  /** Idempotent-producer state: the last snapshot plus every batch appended since. */
  producers = new ProducerStates();
  /** Long-polling fetches waiting for the next append. */
  private readonly waiters = new Set<() => void>();
  /** Appended batches whose bytes are not written yet, oldest first (see append). */
  private queue: PendingWrite[] = [];
  /** Writes in flight, oldest first; a group is settled only once every older one is (readers see a prefix). */
  private writing: WriteGroup[] = [];
  /**
   * Set when a write failed (a full disk): appends are refused with a
   * retriable STORAGE_IO until `recover` has cut the active segment back to
   * its written prefix and reopened it, which an append tries once
   * `retryAt` has passed and no write is in flight.
   */
  private failed: Error | null = null;
  private retryAt = 0;
  private retryDelay = RETRY_MIN_MS;
  /** Writes handed to the threadpool and not yet completed (a recovery waits for none). */
  private inFlight = 0;
  /** Set once closed: a closed log never recovers. */
  private closed = false;
  /** Settles when the latest append so far is written (writes complete in order). */
  private lastWrite: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    public config: LogConfig,
    private readonly now: () => number,
    private readonly probe?: DurabilityProbe,
  ) {
    this.startFile = path.join(dir, 'log-start-offset');
    this.snapshotFile = path.join(dir, 'producer-state.json');
  }

  /**
   * Opens or creates the partition in dir. Closed segments trust their index
   * when it matches the log; the last segment is always scanned and checked
   * by CRC, its torn tail cut. Producer state is the snapshot written when
   * the last segment was started (or at the last clean stop) plus the
   * batches of the scanned segment.
   */
  static open(dir: string, config: LogConfig, now: () => number, probe?: DurabilityProbe): PartitionLog {
    fs.mkdirSync(dir, { recursive: true });
    const log = new PartitionLog(dir, config, now, probe);
    const bases = fs
      .readdirSync(dir)
      .filter((f) => /^\d{20}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 20)))
      .sort((a, b) => a - b);
    // Index files without a log are leftovers of a deletion cut short.
    for (const f of fs.readdirSync(dir)) {
      if (/^\d{20}\.index$/.test(f) && !bases.includes(Number(f.slice(0, 20)))) fs.rmSync(path.join(dir, f));
    }
    log.producers = log.readSnapshot();
    bases.forEach((base, i) => {
      const last = i === bases.length - 1;
      log.segments.push(Segment.open(dir, base, now(), last, last ? log.recordProducer : undefined));
    });
    if (log.segments.length === 0) log.segments.push(Segment.create(dir, 0, now()));
    try {
      log.logStartOffset = Number(fs.readFileSync(log.startFile, 'utf8').trim()) || 0;
    } catch {
      log.logStartOffset = 0;
    }
    const first = log.segments[0] as Segment;
    log.logStartOffset = Math.min(Math.max(log.logStartOffset, first.baseOffset), log.nextOffset);
    return log;
  }

  /** The producer state of the last snapshot (empty when there is none or it does not parse). */
  private readSnapshot(): ProducerStates {
    try {
      return statesFrom(JSON.parse(fs.readFileSync(this.snapshotFile, 'utf8')) as ProducerSnapshot);
    } catch {
      return new ProducerStates();
    }
  }

  /** Adds a batch found by a scan of the last segment to the producer state. */
  private readonly recordProducer = ({ header: h }: { header: BatchHeader }) =>
    this.producers.record(h.producerId, h.producerEpoch, h.baseSequence, h.recordCount, h.baseOffset);

  /** Whether the log is refusing appends after a failed write (and will try to recover). */
  get isFailed(): boolean {
    return this.failed !== null;
  }

  /**
   * Brings a failed log back without a restart, once every write in flight
   * has completed: the active segment (the only one a failed write can
   * touch, since a roll writes everything first) is cut back to the prefix
   * that was written, which is everything acknowledged, and the batches
   * refused with the failure are dropped from the producer state, so their
   * retries are appended again instead of answered as duplicates of offsets
   * that never reached the file. Throws when the disk still refuses; the
   * caller backs off.
   */
  private recover(): void {
    const seg = this.active;
    seg.truncateToWritten();
    this.producers.forgetFrom(seg.nextOffset);
    this.failed = null;
    this.retryDelay = RETRY_MIN_MS;
  }

  /**
   * Throws a retriable STORAGE_IO while the log is failed, after trying to
   * recover once the backoff has passed. The broker calls it before it
   * checks a batch against the producer state, which a recovery changes.
   */
  ensureWritable(): void {
    if (this.failed === null) return;
    if (!this.closed && this.inFlight === 0 && this.now() >= this.retryAt) {
      try {
        this.recover();
        return;
      } catch (err) {
        this.failed = err as Error;
        this.retryAt = this.now() + this.retryDelay;
        this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
      }
    }
    throw new BrokerError('STORAGE_IO', `log ${this.dir} failed a write: ${this.failed.message}`);
  }

  /** The segment appends go to. */
  get activeSegment(): Segment {
    return this.active;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  /** The log end offset: the offset the next record gets. */
  get nextOffset(): number {
    return this.active.nextOffset;
  }

  /**
   * The end of what readers see (the high watermark): every record below it
   * is written to the file. Only appends whose write is still in flight lie
   * between it and nextOffset.
   */
  get readableOffset(): number {
    // Older segments are written in full before a roll, and a segment's
    // readable end starts at its base offset, so the active one tells.
    return this.active.readableNext;
  }

  /** Total bytes of all segments. */
  get size(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /** The descriptor to fsync for acks=all. */
  get activeFd(): number {
    return this.active.fd;
  }

  /**
   * Appends validated batches (headers already checked). Assigns offsets by
   * rewriting each base offset in place and indexes the batches at once (so
   * the next append, from any connection, follows them); the bytes are
   * written as they are by the threadpool, so that a slow write (a first
   * write into new page-cache pages costs ~2.5 ms per MB on a VM) does not
   * stall the event loop. Batches queued while a write is in flight go out
   * together in one writev. Readers, the high watermark and waiting fetches
   * see the batches only once written. Returns the base offset of the first
   * batch and a promise that resolves when the bytes are written.
   */
  append(
    buf: Buffer,
    headers: ReadonlyArray<{ at: number; header: BatchHeader }>,
    durable = false,
  ): { baseOffset: number; written: Promise<boolean> } {
    this.ensureWritable();
    const first = this.nextOffset;
    if (this.shouldRoll(buf.length)) this.roll();
    let next = first;
    const entries = headers.map(({ at, header }) => {
      buf.writeBigInt64BE(BigInt(next), at);
      const e = {
        baseOffset: next,
        at,
        lastOffset: next + header.lastOffsetDelta,
        maxTimestamp: header.maxTimestamp,
      };
      next += header.lastOffsetDelta + 1;
      return e;
    });
    const seg = this.active;
    const position = seg.reserve(buf.length, entries);
    const written = new Promise<boolean>((resolve, reject) => {
      this.queue.push({
        seg,
        buf,
        position,
        durable,
        first,
        size: seg.size,
        count: seg.count,
        next: seg.nextOffset,
        done: false,
        resolve,
        reject,
      });
    });
    this.lastWrite = written.then(
      () => {},
      () => {},
    );
    this.pump();
    return { baseOffset: first, written };
  }

  /**
   * Settles once every batch appended so far is written (or has failed): a
   * retried batch answered as a duplicate must not be acknowledged before
   * the original is in the file.
   */
  written(): Promise<void> {
    return this.lastWrite;
  }

  /** Appends and writes before returning (the bytes are readable at once); returns the base offset. */
  appendSync(buf: Buffer, headers: ReadonlyArray<{ at: number; header: BatchHeader }>): number {
    const { baseOffset, written } = this.append(buf, headers);
    written.catch(() => {}); // drainSync throws the same failure
    this.drainSync();
    return baseOffset;
  }

  /**
   * Starts writes while fewer than MAX_WRITES are in flight: each takes every
   * queued batch of the oldest segment with queued batches, in one writev at
   * its own position. Durable (O_DSYNC) writes of adjacent ranges proceed
   * side by side on the device; they complete in any order but are settled
   * in order, so an answer never runs ahead of an older batch's write.
   */
  private pump(): void {
    while (this.writing.length < MAX_WRITES && this.queue.length > 0) {
      const seg = (this.queue[0] as PendingWrite).seg;
      let n = 1;
      while (n < this.queue.length && (this.queue[n] as PendingWrite).seg === seg) n++;
      const items = this.queue.splice(0, n);
      // One acks=all batch in the group: write the whole group through the O_DSYNC descriptor,
      // so that the write itself makes it durable (no separate fdatasync round after it).
      const dfd = !seg.plainWrites && items.some((i) => i.durable) ? seg.durableFd() : null;
      if (dfd === null) seg.plainWrites = true;
      const group: WriteGroup = { items, finished: false, synced: dfd !== null };
      this.writing.push(group);
      const release = seg.hold();
      this.inFlight++;
      writeFully(
        dfd ?? seg.fd,
        items.map((i) => i.buf),
        (items[0] as PendingWrite).position,
        (err) => {
          release();
          this.inFlight--;
          group.finished = true;
          if (err === null && this.probe)
            for (const i of items)
              this.probe.written({
                fd: dfd ?? seg.fd,
                log: this.dir,
                from: i.first,
                to: i.next,
                dsync: dfd !== null,
              });
          // A failure of bytes that drainSync has written again meanwhile changes nothing.
          if (err !== null && items.some((i) => !i.done)) {
            const all = this.writing.flatMap((g) => g.items);
            this.writing = [];
            this.fail(err, [...items, ...all]);
            return;
          }
          while (this.writing.length > 0 && (this.writing[0] as WriteGroup).finished) {
            const done = this.writing.shift() as WriteGroup;
            this.settle(done.items, done.synced);
          }
          this.pump();
        },
      );
    }
  }

  /** Marks written items readable, resolves their appends and wakes waiting fetches. */
  private settle(items: PendingWrite[], synced: boolean): void {
    let any = false;
    for (const item of items) {
      if (item.done) continue;
      item.done = true;
      item.seg.markWritten(item.size, item.count, item.next);
      item.resolve(synced);
      any = true;
    }
    if (!any) return;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private fail(err: Error, items: PendingWrite[]): void {
    if (this.failed === null) {
      this.retryAt = this.now() + this.retryDelay;
      this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    }
    this.failed = err;
    const all = [...items, ...this.queue];
    this.queue = [];
    for (const item of all) {
      if (item.done) continue;
      item.done = true;
      item.reject(new BrokerError('STORAGE_IO', `write to ${item.seg.logPath}`, { cause: err }));
    }
  }

  /**
   * Writes every pending batch now, synchronously, and marks it readable: a
   * roll, a snapshot of the producer state or a clean stop must not count
   * batches whose bytes might not be in the file. A write still in flight
   * in the threadpool writes the same bytes at the same place, so doing it
   * again here is harmless.
   */
  drainSync(): void {
    const items = [...this.writing.flatMap((g) => g.items), ...this.queue];
    this.queue = [];
    this.writing = [];
    if (this.failed !== null) return;
    try {
      for (const item of items) {
        if (item.done) continue;
        item.seg.plainWrites = true;
        let written = 0;
        while (written < item.buf.length)
          written += fs.writeSync(
            item.seg.fd,
            item.buf,
            written,
            item.buf.length - written,
            item.position + written,
          );
        this.probe?.written({
          fd: item.seg.fd,
          log: this.dir,
          from: item.first,
          to: item.next,
          dsync: false,
        });
      }
    } catch (err) {
      this.fail(err as Error, items);
      throw err;
    }
    this.settle(items, false);
  }

  /** Calls `wake` once after the next append; returns a function that cancels the wait. */
  waitForAppend(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  private shouldRoll(incoming: number): boolean {
    const a = this.active;
    if (a.count === 0) return false;
    return a.size + incoming > this.config.segmentBytes || this.now() - a.createdAt >= this.config.segmentMs;
  }

  /** Closes the active segment and starts a new one at the log end offset. */
  roll(): void {
    const a = this.active;
    if (a.count === 0) return;
    this.drainSync();
    this.probe?.synced(a.fd, 'start');
    a.flush();
    this.probe?.synced(a.fd, 'done');
    // The snapshot covers every closed segment, so a restart only scans the new one.
    this.writeSnapshot();
    this.segments.push(Segment.create(this.dir, a.nextOffset, this.now()));
  }

  private writeSnapshot(): void {
    const tmp = `${this.snapshotFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(snapshotOf(this.producers)));
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.snapshotFile);
  }

  /** Whole batches from `offset`, at most maxBytes unless the first batch alone is larger. */
  async read(offset: number, maxBytes: number): Promise<Buffer | null> {
    for (const seg of this.segments) {
      if (offset >= seg.readableNext) continue;
      const r = seg.range(offset, maxBytes);
      if (r === null) continue;
      return seg.read(r.position, r.length);
    }
    return null;
  }

  /**
   * Whole batches from `offset` as file ranges to send without reading them
   * first (each released by the sender), at most maxBytes in all unless the
   * first batch alone is larger; empty when the offset is at the end. A
   * range that reaches the end of its segment continues in the next one, so
   * a consumer crossing a roll gets a full answer instead of the tail.
   */
  slice(offset: number, maxBytes: number): FileRange[] {
    const out: FileRange[] = [];
    let budget = maxBytes;
    let at = offset;
    for (const seg of this.segments) {
      if (at >= seg.readableNext) continue;
      const r = seg.range(at, budget);
      if (r === null) continue;
      // Past the first range only whole batches that fit.
      if (out.length > 0 && r.length > budget) break;
      out.push(seg.fileRange(r.position, r.length));
      budget -= r.length;
      // Continue into the next segment only from the end of a fully written one.
      if (budget <= 0 || r.position + r.length < seg.size || seg.readableSize < seg.size) break;
      at = seg.nextOffset;
    }
    return out;
  }

  /** The first record with a timestamp >= ts (offset and timestamp), or null when none has. */
  offsetForTimestamp(ts: number): { offset: number; timestamp: number } | null {
    for (const seg of this.segments) {
      if (seg.maxTimestamp < ts) continue;
      const found = seg.offsetForTimestamp(ts);
      if (found !== null && found.offset >= this.logStartOffset) return found;
    }
    return null;
  }

  /** Moves the log start offset forward (DeleteRecords), dropping whole segments below it. */
  deleteBefore(offset: number): void {
    if (offset <= this.logStartOffset) return;
    this.logStartOffset = Math.min(offset, this.nextOffset);
    this.writeStart();
    this.dropSegmentsBelowStart();
  }

  private writeStart(): void {
    const tmp = `${this.startFile}.tmp`;
    fs.writeFileSync(tmp, String(this.logStartOffset));
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.startFile);
  }

  private dropSegmentsBelowStart(): void {
    while (this.segments.length > 1 && (this.segments[0] as Segment).nextOffset <= this.logStartOffset) {
      (this.segments.shift() as Segment).delete(60_000);
    }
    if (this.active.count > 0 && this.active.nextOffset <= this.logStartOffset) {
      // Everything is gone: start an empty segment at the end.
      this.roll();
      (this.segments.shift() as Segment).delete(60_000);
    }
  }

  /**
   * Retention by time and size: drops the oldest closed segments whose
   * newest record is older than retention.ms, then while the log is larger
   * than retention.bytes. The active segment rolls first when it is due or
   * wholly expired, so that it can go too. Returns the number of segments removed.
   */
  enforceRetention(): number {
    const { retentionMs, retentionBytes } = this.config;
    const now = this.now();
    const a = this.active;
    const activeExpired = retentionMs >= 0 && a.count > 0 && now - a.maxTimestamp > retentionMs;
    if (this.shouldRoll(0) || activeExpired) this.roll();
    let removed = 0;
    let size = this.size;
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      const expired = retentionMs >= 0 && oldest.maxTimestamp >= 0 && now - oldest.maxTimestamp > retentionMs;
      const tooBig = retentionBytes >= 0 && size - oldest.size >= retentionBytes;
      if (!expired && !tooBig) break;
      this.segments.shift();
      oldest.delete(60_000);
      size -= oldest.size;
      removed++;
    }
    const first = this.segments[0] as Segment;
    if (first.baseOffset > this.logStartOffset) {
      this.logStartOffset = first.baseOffset;
      this.writeStart();
    }
    return removed;
  }

  /** Segments other than the active one, oldest first (for compaction). */
  closedSegments(): Segment[] {
    return this.segments.slice(0, -1);
  }

  /** Replaces closed segments by compacted ones (same base offsets, fewer batches). */
  replaceClosed(segments: Segment[]): void {
    this.segments = [...segments, this.active];
  }

  /** Descriptors of every segment, to fsync before shutdown. */
  flush(): void {
    this.drainSync();
    this.active.flush();
    this.writeSnapshot();
  }

  /** Closes the files; appends not written yet are refused (nothing acknowledged them). */
  close(): void {
    this.closed = true;
    if (this.failed === null) this.fail(new Error('partition log closed'), []);
    for (const s of this.segments) s.close();
  }

  /** Deletes every file of the partition. */
  destroy(): void {
    this.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** For tests and the FORMAT page: the segment file names in order. */
  segmentNames(): string[] {
    return this.segments.map((s) => segmentName(s.baseOffset));
  }
}

/** Writes in flight at once per partition (adjacent ranges; settled in order). */
const MAX_WRITES = 4;

/** The first wait before a failed log tries to recover, doubled at each failure up to the last. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

/** One writev in flight: its batches, whether it has completed, whether it went through O_DSYNC. */
interface WriteGroup {
  items: PendingWrite[];
  finished: boolean;
  synced: boolean;
}

/** Batches appended and waiting for (or in) their write. */
interface PendingWrite {
  seg: Segment;
  buf: Buffer;
  /** acks=all: write through the segment's O_DSYNC descriptor. */
  durable: boolean;
  /** Where the bytes go in the segment's .log file. */
  position: number;
  /** The offset of the first record of these batches. */
  first: number;
  /** The segment's size, batch count and next offset once these bytes are written. */
  size: number;
  count: number;
  next: number;
  done: boolean;
  /** Called with true when the bytes went through the O_DSYNC descriptor (already on disk). */
  resolve: (synced: boolean) => void;
  reject: (err: Error) => void;
}

/** Writes the buffers back to back at position, however many calls that takes. */
function writeFully(fd: number, bufs: Buffer[], position: number, cb: (err: Error | null) => void): void {
  fs.writev(fd, bufs, position, (err, n) => {
    if (err) {
      cb(err);
      return;
    }
    let left = n;
    const rest: Buffer[] = [];
    for (const b of bufs) {
      if (left >= b.length) left -= b.length;
      else {
        rest.push(left > 0 ? b.subarray(left) : b);
        left = 0;
      }
    }
    if (rest.length === 0) cb(null);
    else writeFully(fd, rest, position + n, cb);
  });
}
