/**
 * One compactor per bucket: a lease kept as a chain of numbered objects
 * under `_promstream/compactor-lease/`, each created with a create-only
 * (If-None-Match) write. Whoever creates entry n+1 holds the lease until the
 * expiry written in it; renewing and taking over an expired lease are both
 * "create the next entry", which exactly one contender wins. Only
 * create-only puts are needed, which S3 (If-None-Match: *) and the
 * filesystem store both give (the ObjectStore contract suite checks it).
 *
 * Some S3 servers let racing conditional creates through (the contract suite
 * allows that, and the versitygw posix backend does it under load), so the
 * holder reads its entry back after writing it and checks on every `keep`
 * that the newest entry is still its own. Two holders can then overlap for
 * at most one step; that is safe because every step of the compactor is
 * idempotent (outputs named from their inputs, sources marked only after
 * their output exists).
 */
import { isStorageError, type ObjectStore, RESERVED_PREFIX, StorageErrorCode } from '@promstream/storage';

/** Where the lease entries live in the bucket. */
export const LEASE_PREFIX = `${RESERVED_PREFIX}/compactor-lease/`;

/** One lease entry. */
export interface LeaseEntry {
  /** Who holds it (host and process, or what the caller names). */
  holder: string;
  /** Until when, ms since the epoch. */
  expiresAt: number;
}

/** Options of a lease. */
export interface LeaseOptions {
  holder: string;
  /** How long an entry holds (default 60 s). */
  ttlMs?: number;
  now?: () => number;
}

function entryKey(n: number): string {
  return `${LEASE_PREFIX}${String(n).padStart(16, '0')}.json`;
}

/** The compactor lease of one bucket. */
export class CompactorLease {
  private readonly ttl: number;
  private readonly now: () => number;
  /** The entry number this holder wrote last, when it holds the lease. */
  private held: number | undefined;
  private heldUntil = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: LeaseOptions,
  ) {
    this.ttl = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The newest entry and its number, or undefined when there is none. */
  private async newest(): Promise<{ n: number; entry: LeaseEntry | undefined } | undefined> {
    let last: string | undefined;
    for await (const o of this.store.list(LEASE_PREFIX)) if (!o.isPrefix) last = o.key;
    if (last === undefined) return undefined;
    const n = Number(last.slice(LEASE_PREFIX.length, -'.json'.length));
    try {
      const entry = JSON.parse(new TextDecoder().decode(await this.store.get(last))) as LeaseEntry;
      return { n, entry };
    } catch (e) {
      // Deleted by a cleanup between list and get: a newer entry exists; a bad entry counts as expired.
      if (isStorageError(e, StorageErrorCode.NotFound)) return this.newest();
      return { n, entry: undefined };
    }
  }

  /**
   * Takes or renews the lease when it is free, expired or already ours;
   * true when this holder has it afterwards (until `ttl` from now).
   */
  async acquire(): Promise<boolean> {
    const cur = await this.newest();
    const now = this.now();
    if (cur !== undefined && cur.entry !== undefined) {
      const ours = cur.entry.holder === this.options.holder && cur.n === this.held;
      if (!ours && cur.entry.expiresAt > now) {
        this.held = undefined;
        return false;
      }
    }
    const n = (cur?.n ?? 0) + 1;
    const entry: LeaseEntry = { holder: this.options.holder, expiresAt: now + this.ttl };
    try {
      await this.store.put(entryKey(n), new TextEncoder().encode(JSON.stringify(entry)), {
        ifNoneMatch: true,
      });
    } catch (e) {
      if (isStorageError(e, StorageErrorCode.PreconditionFailed)) {
        this.held = undefined;
        return false;
      }
      throw e;
    }
    const back = await this.newest();
    if (back?.n !== n || back.entry?.holder !== this.options.holder) {
      this.held = undefined;
      return false;
    }
    this.held = n;
    this.heldUntil = now + this.ttl;
    // Older entries are history; removing them keeps the listing short.
    for (let k = n - 2; k >= Math.max(1, n - 10); k--) await this.store.delete(entryKey(k));
    return true;
  }

  /** Whether this holder held the lease at its last acquire and the entry has not expired by its clock. */
  get valid(): boolean {
    return this.held !== undefined && this.now() < this.heldUntil;
  }

  /** Checks the lease is still this holder's and renews it when past half its time; false when lost. */
  async keep(): Promise<boolean> {
    if (this.held === undefined) return false;
    const cur = await this.newest();
    if (cur?.n !== this.held || cur.entry?.holder !== this.options.holder || this.now() >= this.heldUntil) {
      this.held = undefined;
      return false;
    }
    if (this.now() < this.heldUntil - this.ttl / 2) return true;
    return this.acquire();
  }

  /** Gives the lease up by writing an entry that has already expired. */
  async release(): Promise<void> {
    if (this.held === undefined) return;
    const cur = await this.newest();
    if (cur?.n !== this.held) {
      this.held = undefined;
      return;
    }
    const entry: LeaseEntry = { holder: this.options.holder, expiresAt: 0 };
    try {
      await this.store.put(entryKey(cur.n + 1), new TextEncoder().encode(JSON.stringify(entry)), {
        ifNoneMatch: true,
      });
    } catch (e) {
      if (!isStorageError(e, StorageErrorCode.PreconditionFailed)) throw e;
    }
    this.held = undefined;
  }
}
