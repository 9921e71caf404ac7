import { RE2JS } from 're2js';
import { StorageError, StorageErrorCode } from '../errors.js';
import { type LiteralBranch, type LiteralShape, literalShape, requiredPrefix } from './literal-shape.js';

/**
 * The one place a user's regex becomes a matcher: label matchers (PromQL,
 * `match[]`, the block CLI), `label_replace`, and whatever else takes a
 * regex from a user (rules, relabeling, the events selector). Semantics are
 * Prometheus': RE2 syntax as Go's `regexp` reads it, `.` matching newlines,
 * and fully anchored matching, with errors worded as Go words them. Matching
 * runs in time linear in the value (re2js, a port of RE2/J), so no pattern
 * can stall a thread; the common shapes (literals, `a|b|c`, `foo.*`,
 * `.*foo`, `.*foo.*`, `.+`, `(?i)foo`) skip the automaton altogether.
 */
export interface Regex {
  /** The pattern as the user wrote it. */
  readonly source: string;
  /** Whether the whole value matches. */
  matches(value: string): boolean;
  /** The capture groups of a whole-value match (group 0 is the value), or undefined when it does not match. */
  exec(value: string): RegexGroups | undefined;
}

/** The groups of one match, for expanding `$1` / `${name}` templates. */
export interface RegexGroups {
  /** By index; a group that took no part in the match is undefined. */
  readonly groups: readonly (string | undefined)[];
  /** Group index by name, for `(?P<name>...)` and `(?<name>...)`. */
  readonly names: Readonly<Record<string, number>>;
}

/** Compiles a pattern; throws a StorageError with code `invalid_regex` and Go's message when RE2 rejects it. */
export function compileRegex(pattern: string): Regex {
  const shape = literalShape(pattern);
  if (shape !== undefined) return new ShapedRegex(pattern, shape);
  return new EngineRegex(pattern, compileEngine(pattern), requiredPrefix(pattern));
}

/** Whether a pattern has a syntax error, as Go's message (`error parsing regexp: ...`), or undefined. */
export function regexError(pattern: string): string | undefined {
  try {
    compileRegex(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function compileEngine(pattern: string): RE2JS {
  try {
    // `(?s:...)` as Prometheus wraps it; matches are checked whole (testExact), never searched.
    return RE2JS.compile(`(?s:${pattern})`);
  } catch (wrapped) {
    // re2js words syntax errors as Go's regexp/syntax does; Prometheus quotes the pattern as written.
    let err = wrapped;
    try {
      RE2JS.compile(pattern);
    } catch (raw) {
      err = raw;
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new StorageError(StorageErrorCode.InvalidRegex, message, { cause: err });
  }
}

function groupsOf(re: RE2JS, value: string): RegexGroups | undefined {
  // The automaton without captures answers whether it matches many times faster; groups only then.
  if (!re.testExact(value)) return undefined;
  const m = re.matcher(value);
  if (!m.matches()) return undefined;
  const groups: (string | undefined)[] = [];
  for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
  return { groups, names: re.namedGroups() };
}

/** A pattern the engine runs, behind a check of the literal every match starts with. */
class EngineRegex implements Regex {
  constructor(
    readonly source: string,
    private readonly re: RE2JS,
    private readonly prefix: string,
  ) {}

  matches(value: string): boolean {
    if (this.prefix !== '' && !value.startsWith(this.prefix)) return false;
    return this.re.testExact(value);
  }

  exec(value: string): RegexGroups | undefined {
    if (this.prefix !== '' && !value.startsWith(this.prefix)) return undefined;
    return groupsOf(this.re, value);
  }
}

const NON_ASCII = /[^\x00-\x7f]/;

/** A pattern of literal branches, matched with string operations. */
class ShapedRegex implements Regex {
  private readonly set: ReadonlySet<string> | undefined;
  private engine: RE2JS | undefined;

  constructor(
    readonly source: string,
    private readonly shape: LiteralShape,
  ) {
    // Plain alternatives of literals (`a|b|c`) are a set lookup.
    if (
      !shape.foldCase &&
      shape.branches.every((b) => b.lits.length === 1 && b.gaps[0] === -1 && b.gaps[1] === -1)
    )
      this.set = new Set(shape.branches.map((b) => b.lits[0]!));
  }

  matches(value: string): boolean {
    if (this.set !== undefined) return this.set.has(value);
    let v = value;
    if (this.shape.foldCase) {
      // Go folds a few non-ASCII letters onto ASCII ones (the Kelvin sign onto `k`): those go to the engine.
      if (NON_ASCII.test(value)) return this.compiled().testExact(value);
      v = value.toLowerCase();
    }
    for (const b of this.shape.branches) if (branchMatches(b, v)) return true;
    return false;
  }

  exec(value: string): RegexGroups | undefined {
    return groupsOf(this.compiled(), value);
  }

  private compiled(): RE2JS {
    if (this.engine === undefined) this.engine = compileEngine(this.source);
    return this.engine;
  }
}

/** Whether `v` is the branch's literals with gaps of at least the given lengths between them. */
function branchMatches(b: LiteralBranch, v: string): boolean {
  const { lits, gaps } = b;
  const n = lits.length;
  const first = lits[0]!;
  if (n === 1 && gaps[0] === -1 && gaps[1] === -1) return v === first;
  let pos = 0;
  let end = v.length;
  let from = 0;
  let to = n;
  if (gaps[0] === -1) {
    if (!v.startsWith(first)) return false;
    pos = first.length;
    from = 1;
  }
  if (gaps[n] === -1 && to > from) {
    const last = lits[n - 1]!;
    if (v.length - last.length < pos || !v.endsWith(last)) return false;
    end = v.length - last.length;
    to = n - 1;
  }
  // Literals between gaps: leftmost placement is optimal when every gap takes any text.
  for (let i = from; i < to; i++) {
    const lit = lits[i]!;
    const at = v.indexOf(lit, pos + gaps[i]!);
    if (at < 0 || at + lit.length > end) return false;
    pos = at + lit.length;
  }
  // The gap before the suffix (or the trailing gap) still needs its minimum.
  const tail = to < n ? gaps[to]! : gaps[n]!;
  return end - pos >= Math.max(0, tail);
}
