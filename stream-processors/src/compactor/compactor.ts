/**
 * The compactor role: one pass over a bucket (`runOnce`) compacts each
 * tenant's blocks level by level, downsamples them to 5m and 1h, applies
 * retention per resolution, and deletes what was marked long enough ago,
 * while holding the bucket's lease. Every step is complete before the next
 * starts and every output has a name derived from its inputs, so a pass cut
 * anywhere (kill -9) is finished or redone by the next one with the same
 * result; sources are marked for deletion only after the new block's
 * meta.json is uploaded. Seams are described in README.md.
 */
import {
  type BlockCatalog,
  type BlockMeta,
  BucketCatalog,
  compactBlocks,
  deleteBlock,
  downsampleBlock,
  isStorageError,
  NoCompactReason,
  type ObjectStore,
  resolutionName,
  type StorageError,
} from '@promstream/storage';
import type { Logger } from 'pino';
import { CompactorLease } from './lease.js';
import type { CompactorMetrics } from './metrics.js';
import {
  compactionGroups,
  DEFAULT_DOWNSAMPLE_RANGES,
  DEFAULT_LEVELS,
  planCompaction,
  planDownsampling,
  planRetention,
  type Retention,
} from './planner.js';
import { supersededBlocks } from './superseded.js';

const H = 3600 * 1000;

/** Options of a compactor. */
export interface CompactorOptions {
  /** The whole bucket (`<tenant>/<ULID>/...`). */
  store: ObjectStore;
  logger: Logger;
  metrics: CompactorMetrics;
  /** Names this process in the lease. */
  holder: string;
  /** Compaction levels, ms (default 2h, 8h, 2d, 14d). */
  levels?: readonly number[];
  /** Block spans from which blocks are downsampled (default 40h to 5m, 10d to 1h). */
  downsampleRanges?: { to5m: number; to1h: number };
  /** Whether to downsample at all (default true). */
  downsample?: boolean;
  /** Retention per resolution, ms; 0 keeps forever (the default). */
  retention?: Retention;
  /** How long a deletion mark stands before the block goes (default 48h, as Thanos). */
  deleteDelayMs?: number;
  /** How old a partial upload must be before it is deleted (default 48h, as Thanos). */
  partialUploadDelayMs?: number;
  leaseTtlMs?: number;
  /** Segment file cut size of written blocks. */
  segmentSize?: number;
  now?: () => number;
}

/** What one pass did. */
export interface PassReport {
  /** false when another compactor holds the lease (nothing was done). */
  leased: boolean;
  compacted: string[];
  downsampled: string[];
  markedForDeletion: string[];
  deleted: string[];
  noCompact: string[];
}

/** The lease was lost in the middle of a pass; the pass stops where it is. */
class LeaseLost extends Error {}

/** The compactor of one bucket. */
export class Compactor {
  private readonly catalog: BucketCatalog;
  readonly lease: CompactorLease;
  private readonly now: () => number;

  constructor(private readonly options: CompactorOptions) {
    this.now = options.now ?? Date.now;
    this.catalog = new BucketCatalog(options.store, {
      now: this.now,
      onSkip: (tenant, b) => {
        if (b.code !== 'partial')
          options.logger.warn({ tenant, block: b.ulid, reason: b.reason }, 'block does not read');
      },
    });
    this.lease = new CompactorLease(options.store, {
      holder: options.holder,
      now: this.now,
      ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
    });
  }

  /** One pass over every tenant; does nothing when another compactor holds the lease. */
  async runOnce(): Promise<PassReport> {
    const report: PassReport = {
      leased: false,
      compacted: [],
      downsampled: [],
      markedForDeletion: [],
      deleted: [],
      noCompact: [],
    };
    const m = this.options.metrics;
    if (!(await this.lease.acquire())) {
      m.leaseHeld.set(0);
      m.runs.inc({ result: 'no_lease' });
      return report;
    }
    report.leased = true;
    m.leaseHeld.set(1);
    try {
      for (const tenant of await this.catalog.tenants())
        await this.tenantPass(tenant, this.catalog.tenant(tenant), report);
      m.runs.inc({ result: 'done' });
    } catch (e) {
      if (!(e instanceof LeaseLost)) {
        m.runs.inc({ result: 'error' });
        throw e;
      }
      m.leaseHeld.set(0);
      m.runs.inc({ result: 'no_lease' });
      this.options.logger.warn('compactor lease lost; the pass stops here');
    }
    return report;
  }

  /** Gives the lease up (on shutdown), so another compactor need not wait for it to expire. */
  async stop(): Promise<void> {
    await this.lease.release();
    this.options.metrics.leaseHeld.set(0);
  }

  private async keepLease(): Promise<void> {
    if (!(await this.lease.keep())) throw new LeaseLost('lease lost');
  }

  private async tenantPass(tenant: string, catalog: BlockCatalog, report: PassReport): Promise<void> {
    await this.markSuperseded(tenant, catalog, report);
    await this.compactAll(tenant, catalog, report);
    if (this.options.downsample !== false) await this.downsampleAll(tenant, catalog, report);
    await this.applyRetention(tenant, catalog, report);
    await this.keepLease();
    await catalog.refresh();
    const deleted = await catalog.deleteMarked(this.options.deleteDelayMs ?? 48 * H);
    this.options.metrics.deleted.inc(deleted.length);
    report.deleted.push(...deleted);
    await this.cleanPartial(tenant, catalog);
  }

  /**
   * Marks blocks whose sources another block already holds (the sources of a
   * compaction cut before its marks were written, duplicates written by
   * another tool), so they are neither compacted again nor read twice.
   */
  private async markSuperseded(tenant: string, catalog: BlockCatalog, report: PassReport): Promise<void> {
    const snap = await catalog.refresh();
    for (const meta of supersededBlocks(snap.all)) {
      await this.keepLease();
      if (await catalog.markForDeletion(meta.ulid, 'superseded: its sources are in another block')) {
        this.options.metrics.markedForDeletion.inc({ reason: 'superseded' });
        report.markedForDeletion.push(meta.ulid);
        this.options.logger.info({ tenant, block: meta.ulid }, 'marked a superseded block for deletion');
      }
    }
  }

  /** Compacts every group until its planner has nothing left. */
  private async compactAll(tenant: string, catalog: BlockCatalog, report: PassReport): Promise<void> {
    const levels = this.options.levels ?? DEFAULT_LEVELS;
    const failed = new Set<string>();
    for (;;) {
      const snap = await catalog.refresh();
      let plan: BlockMeta[] = [];
      for (const [key, group] of compactionGroups(snap.all)) {
        if (failed.has(key)) continue;
        plan = planCompaction(group, levels);
        if (plan.length > 0) {
          if (!(await this.compactOne(tenant, catalog, plan, report))) failed.add(key);
          break;
        }
      }
      if (plan.length === 0) return;
    }
  }

  /** One compaction; false when it failed and the group is left for the next pass. */
  private async compactOne(
    tenant: string,
    catalog: BlockCatalog,
    plan: BlockMeta[],
    report: PassReport,
  ): Promise<boolean> {
    await this.keepLease();
    const m = this.options.metrics;
    const vertical = plan.some((b, i) => i > 0 && b.minTime < plan[i - 1]!.maxTime);
    let out: Awaited<ReturnType<typeof compactBlocks>>;
    try {
      out = await compactBlocks(catalog.store, '', plan, this.segmentOptions());
    } catch (e) {
      // With the unreadable block marked, the group can be planned again without it.
      return this.onBadInput(tenant, catalog, plan, e, report);
    }
    m.compactions.inc({ kind: vertical ? 'vertical' : 'horizontal' });
    m.compactedSamples.inc(out.samplesIn);
    m.duplicateSamples.inc(out.duplicates);
    report.compacted.push(out.meta.ulid);
    this.options.logger.info(
      {
        tenant,
        block: out.meta.ulid,
        sources: plan.map((b) => b.ulid),
        vertical,
        duplicates: out.duplicates,
      },
      'compacted blocks',
    );
    // Only now, with the new block's meta.json uploaded, do the sources go.
    for (const src of plan) {
      await this.keepLease();
      if (await catalog.markForDeletion(src.ulid, `compacted into ${out.meta.ulid}`)) {
        m.markedForDeletion.inc({ reason: 'compacted' });
        report.markedForDeletion.push(src.ulid);
      }
    }
    return true;
  }

  private segmentOptions(): { segmentSize?: number } {
    return this.options.segmentSize !== undefined ? { segmentSize: this.options.segmentSize } : {};
  }

  /**
   * A block that does not read is marked no-compact (and no-downsample) with
   * the reason, never deleted; a failure naming no block (a store outage) is
   * logged and counted, and the work is tried again in the next pass.
   * True when a block was marked.
   */
  private async onBadInput(
    tenant: string,
    catalog: BlockCatalog,
    blocks: readonly BlockMeta[],
    e: unknown,
    report: PassReport,
  ): Promise<boolean> {
    if (e instanceof LeaseLost) throw e;
    const m = this.options.metrics;
    const code = isStorageError(e) ? e.code : 'unknown';
    const bad = isStorageError(e) && e.code !== 'io' ? blockOf(e, blocks) : undefined;
    if (bad === undefined) {
      m.failures.inc({ code });
      this.options.logger.error(
        { tenant, err: e, blocks: blocks.map((b) => b.ulid) },
        'compaction step failed; tried again next pass',
      );
      return false;
    }
    const details = (e as Error).message;
    await catalog.markNoCompact(bad, NoCompactReason.Manual, `promstream compactor: ${details}`);
    await catalog.markNoDownsample(bad, 'manual', `promstream compactor: ${details}`);
    m.noCompact.inc({ code });
    report.noCompact.push(bad);
    this.options.logger.error(
      { tenant, block: bad, code, reason: details },
      'block does not read; marked no-compact',
    );
    return true;
  }

  private async downsampleAll(tenant: string, catalog: BlockCatalog, report: PassReport): Promise<void> {
    const ranges = this.options.downsampleRanges ?? DEFAULT_DOWNSAMPLE_RANGES;
    // 5m blocks written in this pass can make 1h plans, so plan again until nothing is left.
    const failed = new Set<string>();
    for (;;) {
      const snap = await catalog.refresh();
      const plans = planDownsampling(snap.all, ranges).filter((p) => !failed.has(p.meta.ulid));
      if (plans.length === 0) return;
      for (const p of plans) {
        await this.keepLease();
        try {
          const out = await downsampleBlock(catalog.store, '', p.meta, p.resolution, this.segmentOptions());
          this.options.metrics.downsamples.inc({ resolution: resolutionName(p.resolution) });
          this.options.metrics.downsampledSamples.inc(out.samplesIn);
          report.downsampled.push(out.meta.ulid);
          this.options.logger.info(
            { tenant, block: out.meta.ulid, source: p.meta.ulid, resolution: resolutionName(p.resolution) },
            'downsampled block',
          );
        } catch (e) {
          failed.add(p.meta.ulid);
          await this.onBadInput(tenant, catalog, [p.meta], e, report);
        }
      }
    }
  }

  private async applyRetention(tenant: string, catalog: BlockCatalog, report: PassReport): Promise<void> {
    const retention = this.options.retention;
    if (retention === undefined) return;
    const snap = await catalog.refresh();
    for (const meta of planRetention(snap.all, retention, this.now())) {
      await this.keepLease();
      if (await catalog.markForDeletion(meta.ulid, 'retention')) {
        this.options.metrics.markedForDeletion.inc({ reason: 'retention' });
        report.markedForDeletion.push(meta.ulid);
        this.options.logger.info(
          { tenant, block: meta.ulid },
          'block past its retention; marked for deletion',
        );
      }
    }
  }

  /** Deletes block directories without meta.json whose newest object is older than the delay. */
  private async cleanPartial(tenant: string, catalog: BlockCatalog): Promise<void> {
    const delay = this.options.partialUploadDelayMs ?? 48 * H;
    for (const s of catalog.snapshot.skipped) {
      if (s.code !== 'partial' || s.deletionMark !== undefined) continue;
      if (s.lastModified === undefined || Number.isNaN(s.lastModified)) continue;
      if (s.lastModified + delay > this.now()) continue;
      await this.keepLease();
      await deleteBlock(catalog.store, s.ulid);
      this.options.metrics.partialDeleted.inc();
      this.options.logger.info({ tenant, block: s.ulid }, 'deleted an abandoned partial upload');
    }
  }
}

/** The source block a storage error names (its `block` is the block's key), if it is one of them. */
function blockOf(e: StorageError, blocks: readonly BlockMeta[]): string | undefined {
  const key = e.block ?? '';
  const ulid = key.slice(key.lastIndexOf('/') + 1);
  if (blocks.some((b) => b.ulid === ulid)) return ulid;
  return blocks.length === 1 ? blocks[0]!.ulid : undefined;
}
