import { decodeSegment, EVENTS_PREFIX, type ObjectStore, type StoredEvent } from '@promstream/storage';
import { type EventFilter, matchesEvent } from './event-filter.js';

/** Where a page of events starts: after the event at this position (time, partition, offset). */
export type EventCursor = readonly [time: number, partition: number, offset: number];

/** One events request, parsed. */
export interface EventQuery {
  tenant: string;
  /** ms, inclusive. */
  start: number;
  end: number;
  filter: EventFilter;
  /** `backward`: newest first (the default); `forward`: oldest first. */
  direction: 'backward' | 'forward';
  limit: number;
  after?: EventCursor;
}

/** A page of events and the cursor of the next one (absent: none left). */
export interface EventPage {
  events: StoredEvent[];
  next?: EventCursor;
}

/** The event querier seam of the query tier's events API. */
export interface EventQuerier {
  query(q: EventQuery): Promise<EventPage>;
}

/** Events of the log not yet in a segment (the store's state onwards), for one tenant. */
export interface EventTail {
  read(tenant: string, start: number, end: number): Promise<readonly StoredEvent[]>;
}

const HOUR = 3_600_000;

/** Orders events by time, then partition, then offset. */
export function compareEvents(a: EventCursor, b: EventCursor): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** An event's position. */
export function positionOf(e: StoredEvent): EventCursor {
  return [e.time, e.partition, e.offset];
}

/** Options of the bucket querier. */
export interface BucketEventQuerierOptions {
  store: Pick<ObjectStore, 'get' | 'list'>;
  /** The log tail beside the segments; none: segments only. */
  tail?: EventTail;
  /** Decoded segments kept in memory (they are immutable), by count (default 256). */
  cacheSegments?: number;
}

/**
 * Answers event queries from the Parquet segments of the bucket (the hours
 * of the window, listed per tenant) merged with the log tail, each event
 * once by (partition, offset), in time order, one page at a time.
 */
export class BucketEventQuerier implements EventQuerier {
  private readonly cache = new Map<string, Promise<StoredEvent[]>>();

  constructor(private readonly options: BucketEventQuerierOptions) {}

  async query(q: EventQuery): Promise<EventPage> {
    const found = new Map<string, StoredEvent>();
    const take = (e: StoredEvent) => {
      if (e.time < q.start || e.time > q.end || !matchesEvent(q.filter, e)) return;
      if (q.after !== undefined) {
        const c = compareEvents(positionOf(e), q.after);
        if (q.direction === 'forward' ? c <= 0 : c >= 0) return;
      }
      found.set(`${e.partition}/${e.offset}`, e);
    };
    for (const e of (await this.options.tail?.read(q.tenant, q.start, q.end)) ?? []) take(e);
    // Hours nearest the start of the answer first; once a page is full of events from
    // the hours read, the hours left cannot hold a better one and are not read at all.
    const hours = await this.segmentHours(q.tenant, q.start, q.end);
    const order = [...hours.keys()].sort((a, b) => (q.direction === 'forward' ? a - b : b - a));
    for (const hour of order) {
      for (const key of hours.get(hour) ?? []) for (const e of await this.segment(key)) take(e);
      if (q.limit > 0 && this.settled(found, hour, q)) break;
    }
    const sign = q.direction === 'forward' ? 1 : -1;
    const events = [...found.values()].sort((a, b) => sign * compareEvents(positionOf(a), positionOf(b)));
    if (q.limit <= 0 || events.length <= q.limit) return { events };
    const page = events.slice(0, q.limit);
    return { events: page, next: positionOf(page[page.length - 1] as StoredEvent) };
  }

  /** Whether `limit` events found so far lie on the near side of `hour`, where no later hour reaches. */
  private settled(found: ReadonlyMap<string, StoredEvent>, hour: number, q: EventQuery): boolean {
    let n = 0;
    for (const e of found.values()) {
      if (q.direction === 'forward' ? e.time < hour + HOUR : e.time >= hour) n++;
      if (n >= q.limit) return true;
    }
    return false;
  }

  /** The segment keys of a tenant's hours that overlap [start, end], by hour start. */
  private async segmentHours(tenant: string, start: number, end: number): Promise<Map<number, string[]>> {
    const hours = new Map<number, string[]>();
    const tenantPrefix = `${EVENTS_PREFIX}/${tenant}/`;
    for await (const day of this.options.store.list(tenantPrefix)) {
      const date = /date=(\d{4}-\d{2}-\d{2})\/$/.exec(day.key)?.[1];
      if (date === undefined) continue;
      const dayStart = Date.parse(`${date}T00:00:00Z`);
      if (dayStart > end || dayStart + 24 * HOUR <= start) continue;
      for await (const hour of this.options.store.list(day.key)) {
        const h = /hour=(\d{2})\/$/.exec(hour.key)?.[1];
        if (h === undefined) continue;
        const hourStart = dayStart + Number(h) * HOUR;
        if (hourStart > end || hourStart + HOUR <= start) continue;
        const keys: string[] = [];
        for await (const o of this.options.store.list(hour.key, { recursive: true }))
          if (o.key.endsWith('.parquet')) keys.push(o.key);
        hours.set(hourStart, keys);
      }
    }
    return hours;
  }

  private segment(key: string): Promise<StoredEvent[]> {
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const loading = this.options.store.get(key).then(decodeSegment);
    loading.catch(() => this.cache.delete(key));
    this.cache.set(key, loading);
    const max = this.options.cacheSegments ?? 256;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
    return loading;
  }
}
