import { compileRegex, type Matcher, type StoredEvent } from '@promstream/storage';

/**
 * An event query's `match`: a selector in PromQL matcher syntax over the
 * event's fields and attributes, then any number of text filters on the
 * message, as LogQL writes them:
 *
 *   {kind="oom_kill", host=~"db-.*"} |= "nvme0" |~ "sd[a-z]+" != "test" !~ "ok.*"
 *
 * `host`, `source`, `kind` and `severity` name the fields; any other name an
 * attribute (absent reads as ""). `|=` / `!=` test for a substring, `|~` /
 * `!~` for an RE2 match anywhere in the message (unanchored, unlike a label
 * matcher), through the same RE2 engine as the PromQL matchers.
 */

/** One text filter on the message. */
export interface TextFilter {
  op: '|=' | '!=' | '|~' | '!~';
  value: string;
  test(message: string): boolean;
}

/** A parsed `match`. */
export interface EventFilter {
  matchers: Matcher[];
  text: TextFilter[];
}

/** Thrown for a `match` that does not parse; the API answers it with a 400. */
export class EventFilterError extends Error {
  override name = 'EventFilterError';
}

const FIELDS = new Set(['host', 'source', 'kind', 'severity']);

/** The value a matcher of `name` sees on an event. */
export function fieldOf(e: StoredEvent, name: string): string {
  if (FIELDS.has(name)) return e[name as 'host' | 'source' | 'kind' | 'severity'];
  return e.attributes[name] ?? '';
}

/** Whether an event passes the filter. */
export function matchesEvent(filter: EventFilter, e: StoredEvent): boolean {
  for (const m of filter.matchers) if (!m.matches(fieldOf(e, m.name))) return false;
  for (const t of filter.text) if (!t.test(e.message)) return false;
  return true;
}

/** Where the selector's closing brace is, skipping quoted strings. */
function selectorEnd(text: string): number {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '}') return i;
  }
  throw new EventFilterError('the selector has no closing "}"');
}

/** Reads one quoted string at `i`; returns its value and the index after it. */
function quoted(text: string, i: number): { value: string; next: number } {
  const q = text[i];
  if (q === '`') {
    const end = text.indexOf('`', i + 1);
    if (end < 0) throw new EventFilterError('unterminated raw string in a text filter');
    return { value: text.slice(i + 1, end), next: end + 1 };
  }
  if (q !== '"') throw new EventFilterError(`a text filter needs a quoted string at position ${i + 1}`);
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') {
      try {
        return { value: JSON.parse(text.slice(i, j + 1)) as string, next: j + 1 };
      } catch {
        throw new EventFilterError(`the string at position ${i + 1} is not a valid quoted string`);
      }
    }
  }
  throw new EventFilterError('unterminated string in a text filter');
}

/** A text filter's test; regexes are compiled once here and refused with RE2's reason. */
function textFilter(op: TextFilter['op'], value: string): TextFilter {
  if (op === '|=') return { op, value, test: (m) => m.includes(value) };
  if (op === '!=') return { op, value, test: (m) => !m.includes(value) };
  let re: ReturnType<typeof compileRegex>;
  try {
    // Unanchored: a match anywhere in the message, as grep and LogQL do.
    re = compileRegex(`.*(?:${value}).*`);
  } catch (err) {
    throw new EventFilterError(
      `invalid regular expression ${JSON.stringify(value)}: ${(err as Error).message}`,
    );
  }
  return op === '|~' ? { op, value, test: (m) => re.matches(m) } : { op, value, test: (m) => !re.matches(m) };
}

/**
 * Parses a `match`; `parseSelector` is the PromQL parser's (so the matcher
 * syntax and its errors are PromQL's). An empty `match` selects everything.
 */
export function parseEventFilter(text: string, parseSelector: (s: string) => Matcher[]): EventFilter {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '{}') return { matchers: [], text: [] };
  let rest = trimmed;
  let matchers: Matcher[] = [];
  if (rest.startsWith('{')) {
    const end = selectorEnd(rest);
    const selector = rest.slice(0, end + 1);
    matchers = selector.replace(/\s/g, '') === '{}' ? [] : parseSelector(selector);
    rest = rest.slice(end + 1);
  }
  const filters: TextFilter[] = [];
  let i = 0;
  while (i < rest.length) {
    if (/\s/.test(rest[i] as string)) {
      i++;
      continue;
    }
    const op = rest.slice(i, i + 2);
    if (op !== '|=' && op !== '!=' && op !== '|~' && op !== '!~')
      throw new EventFilterError(
        `expected a text filter (|=, !=, |~, !~) at ${JSON.stringify(rest.slice(i, i + 12))}`,
      );
    i += 2;
    while (/\s/.test(rest[i] ?? '')) i++;
    const { value, next } = quoted(rest, i);
    filters.push(textFilter(op, value));
    i = next;
  }
  return { matchers, text: filters };
}
