/** The fields of the log's `Event` record (schemas/avro/event.avsc) the store keeps. */
export interface EventFields {
  time: number;
  host: string;
  source: string;
  kind: string;
  severity: string;
  message: string;
  attributes: Record<string, string>;
}

/**
 * One event as the store keeps it: the `Event` record of the log, its
 * tenant, where it was read (partition, offset), and whether the limits
 * below cut it short.
 */
export interface StoredEvent {
  tenant: string;
  partition: number;
  offset: number;
  /** ms since the epoch, the event's own time. */
  time: number;
  host: string;
  source: string;
  kind: string;
  severity: string;
  message: string;
  attributes: Record<string, string>;
  /** The message or the attribute map was cut to the limits (and the `truncated` attribute names what). */
  truncated: boolean;
}

/**
 * The limits an event is stored under. A longer message or a larger map is
 * kept cut short with `truncated` set, never refused: an oversized kernel
 * line is still worth finding.
 */
export interface EventLimits {
  /** Characters of the message kept (default 16384). */
  maxMessage: number;
  /** Attributes kept, in key order (default 64). */
  maxAttributes: number;
  /** Characters of an attribute key kept (default 128). */
  maxAttributeKey: number;
  /** Characters of an attribute value kept (default 1024). */
  maxAttributeValue: number;
}

/** The documented default limits (README, "Limits"). */
export const DEFAULT_EVENT_LIMITS: EventLimits = {
  maxMessage: 16_384,
  maxAttributes: 64,
  maxAttributeKey: 128,
  maxAttributeValue: 1024,
};

/** An event of the log as stored, cut to the limits. */
export function toStored(
  event: EventFields,
  tenant: string,
  partition: number,
  offset: number,
  limits: EventLimits = DEFAULT_EVENT_LIMITS,
): StoredEvent {
  let truncated = false;
  let message = event.message;
  if (message.length > limits.maxMessage) {
    message = message.slice(0, limits.maxMessage);
    truncated = true;
  }
  const keys = Object.keys(event.attributes).sort();
  if (keys.length > limits.maxAttributes) truncated = true;
  const attributes: Record<string, string> = {};
  for (const key of keys.slice(0, limits.maxAttributes)) {
    const value = event.attributes[key] ?? '';
    const k = key.length > limits.maxAttributeKey ? key.slice(0, limits.maxAttributeKey) : key;
    const v = value.length > limits.maxAttributeValue ? value.slice(0, limits.maxAttributeValue) : value;
    if (k !== key || v !== value) truncated = true;
    attributes[k] = v;
  }
  return {
    tenant,
    partition,
    offset,
    time: Number(event.time),
    host: event.host,
    source: event.source,
    kind: event.kind,
    severity: event.severity,
    message,
    attributes,
    truncated,
  };
}

/** The bytes an event takes in memory, roughly: what segments are cut by. */
export function eventSize(e: StoredEvent): number {
  let n = 64 + e.host.length + e.kind.length + e.message.length;
  for (const [k, v] of Object.entries(e.attributes)) n += k.length + v.length + 8;
  return n;
}

/** The attribute that names an event's tenant; events without one belong to the default tenant. */
export const TENANT_ATTRIBUTE = 'tenant';

/**
 * The tenant of an event: its `tenant` attribute, or the default. The store
 * and the query tier's log tail both place events by this one rule, and
 * check the result with the tenant-ID rule (`tenantIdProblem`).
 */
export function eventTenant(attributes: Readonly<Record<string, string>>, defaultTenant: string): string {
  return attributes[TENANT_ATTRIBUTE] ?? defaultTenant;
}
