import { type Matcher, type MatchType, newMatcher } from '@promstream/storage';

/**
 * Label matchers with Go (RE2) regex syntax. PromQL regexes are RE2; JS
 * RegExp differs in a few places that matter to users: inline flag groups
 * (`(?i)`, `(?i:...)`, `(?s)`), `\z`, `\A`, `\Q...\E`, POSIX classes and
 * `(?P<name>...)`. This file rewrites those into JS syntax; everything else
 * RE2 accepts is a subset of JS syntax.
 */

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

function escapeLiteral(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function caseFold(c: string): string {
  const lo = c.toLowerCase();
  const up = c.toUpperCase();
  if (lo === up || lo.length !== 1 || up.length !== 1) return escapeLiteral(c);
  return `[${lo}${up}]`;
}

/** Rewrites an RE2 pattern into an equivalent JS pattern (without anchors). */
export function goRegexToJs(src: string): string {
  let out = '';
  let i = 0;
  // Case-insensitivity per open group, so `(?i:...)` and a mid-group `(?i)` end with their group.
  const foldStack: boolean[] = [false];
  const fold = (): boolean => foldStack[foldStack.length - 1] === true;
  const setFold = (f: boolean) => {
    foldStack[foldStack.length - 1] = f;
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) throw new SyntaxError('trailing backslash at end of expression');
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end);
        for (const ch of lit) out += fold() ? caseFold(ch) : escapeLiteral(ch);
        i = end < 0 ? src.length : end + 2;
        continue;
      }
      if (n === 'z') {
        out += '$';
        i += 2;
        continue;
      }
      if (n === 'A') {
        out += '^';
        i += 2;
        continue;
      }
      if (n === 'C') {
        out += '[^]';
        i += 2;
        continue;
      }
      if (/[1-9]/.test(n))
        throw new SyntaxError(`invalid escape sequence: \\${n} (RE2 has no backreferences)`);
      if (/[a-zA-Z]/.test(n) && fold() === false) {
        out += `\\${n}`;
        i += 2;
        continue;
      }
      if (/[a-zA-Z0-9]/.test(n)) {
        out += `\\${n}`;
        i += 2;
        continue;
      }
      out += `\\${n}`;
      i += 2;
      continue;
    }
    if (c === '[') {
      // Character class: copy through, expanding POSIX classes and folding letters.
      let j = i + 1;
      let cls = '[';
      if (src[j] === '^') {
        cls += '^';
        j++;
      }
      if (src[j] === ']') {
        cls += '\\]';
        j++;
      }
      while (j < src.length && src[j] !== ']') {
        if (src.startsWith('[:', j)) {
          const end = src.indexOf(':]', j + 2);
          if (end > 0) {
            let name = src.slice(j + 2, end);
            const neg = name.startsWith('^');
            if (neg) name = name.slice(1);
            const body = POSIX_CLASSES[name];
            if (body === undefined) throw new SyntaxError(`invalid character class range: [:${name}:]`);
            if (neg) throw new SyntaxError('negated POSIX classes are not supported');
            cls += body;
            j = end + 2;
            continue;
          }
        }
        const ch = src[j] as string;
        if (ch === '\\') {
          cls += src.slice(j, j + 2);
          j += 2;
          continue;
        }
        if (ch === '[') {
          cls += '\\[';
          j++;
          continue;
        }
        if (fold() && /[a-zA-Z]/.test(ch)) {
          if (
            src[j + 1] === '-' &&
            src[j + 2] !== undefined &&
            src[j + 2] !== ']' &&
            /[a-zA-Z]/.test(src[j + 2] as string)
          ) {
            const to = src[j + 2] as string;
            cls += `${ch.toLowerCase()}-${to.toLowerCase()}${ch.toUpperCase()}-${to.toUpperCase()}`;
            j += 3;
            continue;
          }
          cls += ch.toLowerCase() + ch.toUpperCase();
          j++;
          continue;
        }
        cls += ch;
        j++;
      }
      if (j >= src.length) throw new SyntaxError('missing closing ]');
      out += `${cls}]`;
      i = j + 1;
      continue;
    }
    if (c === '(') {
      if (src[i + 1] === '?') {
        const rest = src.slice(i + 2);
        const flags = /^([imsU-]*)(\)|:)/.exec(rest);
        if (flags && !rest.startsWith(':') && !(flags[1] === '' && flags[2] === ':')) {
          const spec = flags[1] as string;
          let on = true;
          let f = fold();
          for (const ch of spec) {
            if (ch === '-') on = false;
            else if (ch === 'i') f = on;
          }
          if (flags[2] === ')') {
            setFold(f);
            i += 2 + (flags[0] as string).length;
            continue;
          }
          foldStack.push(f);
          out += '(?:';
          i += 2 + (flags[0] as string).length;
          continue;
        }
        if (/^(=|!|<=|<!)/.test(rest))
          throw new SyntaxError('invalid or unsupported Perl syntax: lookaround');
        if (rest.startsWith('P<')) {
          foldStack.push(fold());
          out += '(?<';
          i += 4;
          continue;
        }
        foldStack.push(fold());
        out += '(?';
        i += 2;
        continue;
      }
      foldStack.push(fold());
      out += '(';
      i++;
      continue;
    }
    if (c === ')') {
      if (foldStack.length > 1) foldStack.pop();
      out += ')';
      i++;
      continue;
    }
    if (fold() && /[a-zA-Z]/.test(c)) {
      out += caseFold(c);
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Builds a matcher; regex matchers take RE2 syntax. Throws SyntaxError on a bad regex. */
export function newPromMatcher(type: MatchType, name: string, value: string): Matcher {
  if (type === '=' || type === '!=') return newMatcher(type, name, value);
  const re = new RegExp(`^(?:${goRegexToJs(value)})$`, 's');
  // V8 compiles lazily; run it once so size limits fail here, at parse time.
  re.test('');
  const positive = type === '=~';
  return { type, name, value, matches: (v) => re.test(v) === positive };
}
