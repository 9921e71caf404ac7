import { parseDuration } from '@promstream/storage';
import { EngineError } from '../engine-types.js';

/** PromQL literals: numbers (with durations as seconds) and Go-quoted strings. Problems are `EngineError('bad_data')`. */

function fail(msg: string): never {
  throw new EngineError('bad_data', msg);
}

/** Parses a PromQL number literal (decimal, hex, Inf, NaN or a duration, in seconds). */
export function parseNumber(text: string): number {
  let t = text.replace(/_/g, '').replace(/\s+/g, '');
  let sign = 1;
  if (t.startsWith('-')) {
    sign = -1;
    t = t.slice(1);
  } else if (t.startsWith('+')) t = t.slice(1);
  const lower = t.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return sign * Number.POSITIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  if (/^0x[0-9a-f]+$/i.test(t)) return sign * Number.parseInt(t.slice(2), 16);
  if (/^(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t)) return sign * Number(t);
  const d = parseDuration(t);
  if (d !== undefined) return (sign * d) / 1000;
  return fail(`bad number or duration syntax: "${text}"`);
}

/** Unquotes a Go string literal ("...", '...' or `...`). */
export function unquoteString(raw: string): string {
  const q = raw[0];
  if (raw.length < 2 || raw[raw.length - 1] !== q) fail(`unterminated quoted string ${raw}`);
  const body = raw.slice(1, -1);
  if (q === '`') return body;
  let out = '';
  // Byte escapes (\xNN, \NNN) are collected and decoded as UTF-8; bytes that do not form
  // UTF-8 are kept as lone surrogates U+DC80..U+DCFF so they can be reported, never matched.
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    try {
      out += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : String.fromCharCode(0xdc00 + b);
    }
    bytes = [];
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    const isByteEscape = c === '\\' && (body[i + 1] === 'x' || /[0-7]/.test(body[i + 1] ?? ''));
    if (!isByteEscape) flush();
    if (c !== '\\') {
      if (c === q) fail(`invalid syntax in string ${raw}`);
      out += c;
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
      case "'":
        if (n !== q) fail(`invalid escape sequence in string ${raw}`);
        out += n;
        break;
      case 'x': {
        const h = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail(`invalid escape sequence in string ${raw}`);
        bytes.push(Number.parseInt(h, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const len = n === 'u' ? 4 : 8;
        const h = body.slice(i + 1, i + 1 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) fail(`invalid escape sequence in string ${raw}`);
        const cp = Number.parseInt(h, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
          fail(`invalid unicode code point in string ${raw}`);
        out += String.fromCodePoint(cp);
        i += len;
        break;
      }
      default: {
        if (n !== undefined && /[0-7]/.test(n)) {
          const o = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(o)) fail(`invalid escape sequence in string ${raw}`);
          const val = Number.parseInt(o, 8);
          if (val > 255) fail(`invalid escape sequence in string ${raw}`);
          bytes.push(val);
          i += 2;
          break;
        }
        fail(`invalid escape sequence in string ${raw}`);
      }
    }
  }
  flush();
  return out;
}
