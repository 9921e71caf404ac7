/**
 * Recognizes the regexes users write most (`foo`, `a|b|c`, `foo.*`, `.*foo`,
 * `.*foo.*`, `.+`, `(?i)foo`, `foo.*bar`) from their text, so they match with
 * string operations instead of an automaton, as Prometheus' FastRegexMatcher
 * does. The recognizer is deliberately narrow: anything it does not fully
 * understand (classes, groups other than one around the whole pattern,
 * quantifiers on literals, flags other than a leading `(?i)`, escapes of
 * letters) yields `undefined`, and the pattern goes to the RE2 engine.
 */

/** One alternative: literals separated by runs of `.*` / `.+`. */
export interface LiteralBranch {
  /** The literals in order; `gaps[i]` sits before `lits[i]`, the last gap after the last literal. */
  readonly lits: readonly string[];
  /**
   * Per gap: -1 for no gap (only possible before the first and after the last
   * literal), else the fewest characters it holds (0 for `.*`, 1 for `.+`).
   */
  readonly gaps: readonly number[];
}

/** A pattern that is an alternation of literal branches, with or without `(?i)`. */
export interface LiteralShape {
  readonly branches: readonly LiteralBranch[];
  /** Whether the pattern started with `(?i)`; the literals are then ASCII and lower case. */
  readonly foldCase: boolean;
}

const PUNCT = /[!-/:-@[-`{-~]/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const META = new Set(['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$']);

/** Splits at `|` outside groups and classes; undefined when the pattern has a class or an unbalanced group. */
function splitTop(p: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') return undefined;
    if (c === '(') depth++;
    else if (c === ')') {
      if (--depth < 0) return undefined;
    } else if (c === '|' && depth === 0) {
      out.push(p.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  out.push(p.slice(start));
  return out;
}

/** Whether `(` at 0 closes at the last character. */
function wrapsWhole(p: string): boolean {
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i === p.length - 1;
  }
  return false;
}

function branchOf(text: string, foldCase: boolean): LiteralBranch | undefined {
  // Tokens first: literal runs and gaps, adjacent ones of a kind merged.
  const tokens: Array<string | number> = [];
  const push = (t: string | number) => {
    const last = tokens[tokens.length - 1];
    if (typeof t === 'string' && typeof last === 'string') tokens[tokens.length - 1] = last + t;
    else if (typeof t === 'number' && typeof last === 'number') tokens[tokens.length - 1] = last + t;
    else tokens.push(t);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '.') {
      const q = text[i + 1];
      if (q !== '*' && q !== '+') return undefined;
      push(q === '+' ? 1 : 0);
      i++;
      continue;
    }
    if (c === '\\') {
      const n = text[i + 1];
      // Only escaped ASCII punctuation is a plain literal; `\d`, `\pL`, `\Q`, `\x` are not.
      if (n === undefined || !PUNCT.test(n)) return undefined;
      const q = text[i + 2];
      if (q === '*' || q === '+' || q === '?' || q === '{') return undefined;
      push(n);
      i++;
      continue;
    }
    if (META.has(c)) return undefined;
    const q = text[i + 1];
    if (q === '*' || q === '+' || q === '?' || q === '{') return undefined;
    push(c);
  }
  const lits: string[] = [];
  const gaps: number[] = [];
  let pendingGap = -1;
  for (const t of tokens) {
    if (typeof t === 'number') {
      // A gap of two or more characters would count UTF-16 units, not code points.
      if (t > 1) return undefined;
      pendingGap = t;
      continue;
    }
    // Folding is left to the engine for anything but printable ASCII (Go folds `K` with the Kelvin sign).
    if (foldCase && !PRINTABLE_ASCII.test(t)) return undefined;
    gaps.push(pendingGap);
    lits.push(foldCase ? t.toLowerCase() : t);
    pendingGap = -1;
  }
  if (lits.length === 0) {
    // The empty pattern, or gaps alone (`.*`, `.+`).
    lits.push('');
    gaps.push(pendingGap);
    gaps.push(-1);
  } else gaps.push(pendingGap);
  return { lits, gaps };
}

/** The literal shape of a pattern, or undefined when the RE2 engine must run it. */
export function literalShape(pattern: string): LiteralShape | undefined {
  let p = pattern;
  let foldCase = false;
  if (p.startsWith('(?i)')) {
    foldCase = true;
    p = p.slice(4);
  }
  if (p.startsWith('(?:') && wrapsWhole(p)) p = p.slice(3, -1);
  else if (p.startsWith('(') && !p.startsWith('(?') && wrapsWhole(p)) p = p.slice(1, -1);
  const parts = splitTop(p);
  if (parts === undefined) return undefined;
  const branches: LiteralBranch[] = [];
  for (const part of parts) {
    const b = branchOf(part, foldCase);
    if (b === undefined) return undefined;
    branches.push(b);
  }
  return { branches, foldCase };
}

/**
 * The literal every match must start with, for patterns the shape does not
 * cover (`2..`, `api-[0-9]+`): the leading run of plain characters, less its
 * last one when a quantifier follows. Empty when there is none or when the
 * pattern has a top-level alternation or flags.
 */
export function requiredPrefix(pattern: string): string {
  const parts = splitTop(pattern);
  // Without a split (a class or odd grouping) a `|` might be at the top level: take no prefix.
  if (parts === undefined ? pattern.includes('|') : parts.length > 1) return '';
  let prefix = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    let lit = c;
    let width = 1;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined || !PUNCT.test(n)) break;
      lit = n;
      width = 2;
    } else if (META.has(c)) break;
    const q = pattern[i + width];
    if (q === '*' || q === '?' || q === '{') break;
    prefix += lit;
    // `ab+` still starts with `ab`, but nothing after the repeated character is fixed.
    if (q === '+') break;
    i += width - 1;
  }
  return prefix;
}
