/**
 * The one tenant-ID rule of promstream. A tenant ID becomes the first path
 * segment of every key in the bucket (`<tenant>/<ULID>/...`), so the rule
 * lives here, beside the bucket layout, and every entry point (the gateway,
 * the agent, import, export, replay, the query API, and every processor that
 * reads a tenant from a log record) checks IDs with it.
 *
 * The rule is Mimir's: at most 150 characters, each one of `a-z A-Z 0-9`
 * and `! - _ . * ' ( )` (the characters S3 calls safe in a key), never `.`
 * or `..`. So no `/`, no control character, no space, no percent sign (no
 * escaped form can turn into a path later) and nothing outside ASCII (no
 * look-alike of another tenant's name). Two names more are refused because
 * the bucket layout gives them a meaning: `_promstream`, the prefix of the
 * processors' own state, and a ULID, which at the top level of a bucket is
 * a block of a bucket without tenants.
 */
import { isUlid } from './block/ulid.js';
import { StorageError, StorageErrorCode } from './errors.js';

/** The longest tenant ID, in characters (Mimir's limit). */
export const MAX_TENANT_ID_LENGTH = 150;

/** The top-level prefix of the bucket the processors keep their state under; no tenant may take it. */
export const RESERVED_TENANT_ID = '_promstream';

function allowed(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x21 || // !
    code === 0x2d || // -
    code === 0x5f || // _
    code === 0x2e || // .
    code === 0x2a || // *
    code === 0x27 || // '
    code === 0x28 || // (
    code === 0x29 // )
  );
}

/** A character for a message: itself when printable ASCII, else its code point. */
function shown(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code > 0x20 && code < 0x7f ? `'${ch}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why `id` is not a valid tenant ID, in one sentence that names the rule it
 * breaks, or undefined when it is valid. Never echoes more than the first
 * 40 characters of the ID.
 */
export function tenantIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'the tenant ID is empty';
  const quoted = JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}...` : id);
  if (id.length > MAX_TENANT_ID_LENGTH)
    return `tenant ID ${quoted} is ${id.length} characters long; at most ${MAX_TENANT_ID_LENGTH} are allowed`;
  for (const ch of id) {
    if (ch.length !== 1 || !allowed(ch.charCodeAt(0)))
      return `tenant ID ${quoted} contains the unsupported character ${shown(ch)}; allowed are a-z A-Z 0-9 and ! - _ . * ' ( )`;
  }
  if (id === '.' || id === '..') return `tenant ID ${quoted} is not allowed (a path segment of its own)`;
  if (id === RESERVED_TENANT_ID)
    return `tenant ID ${quoted} is reserved for the processors' state in the bucket`;
  if (isUlid(id)) return `tenant ID ${quoted} has the form of a block ULID, which the bucket reserves`;
  return undefined;
}

/** Whether `id` is a valid tenant ID. */
export function isValidTenantId(id: string): boolean {
  return tenantIdProblem(id) === undefined;
}

/** Returns `id` when it is a valid tenant ID; throws an `invalid_tenant` StorageError with the reason otherwise. */
export function checkTenantId(id: string): string {
  const problem = tenantIdProblem(id);
  if (problem !== undefined) throw new StorageError(StorageErrorCode.InvalidTenant, problem);
  return id;
}
