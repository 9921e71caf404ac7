/**
 * The parser of Go's text/template language, as Prometheus uses it in the
 * labels and annotations of alerting rules (`{{ $labels.job }}`,
 * `{{ $value | humanize }}`, `{{ if ... }}{{ else }}{{ end }}`, `range`,
 * `with`, variables, pipelines, `(...)`, comments, `{{-`/`-}}` trimming).
 * It reports the errors Go's parser reports, in Go's words
 * (`template: NAME:LINE: unexpected EOF`), because `promtool check rules`
 * prints them.
 */

/** An operand of a command. */
export type Operand =
  | { k: 'field'; base: 'dot' | string; path: string[] }
  | { k: 'ident'; name: string }
  | { k: 'str'; s: string }
  | { k: 'num'; n: number }
  | { k: 'bool'; b: boolean }
  | { k: 'nil' }
  | { k: 'pipe'; pipe: Pipe; path: string[] };

/** A pipeline: optional variable declarations, then commands joined by `|`. */
export interface Pipe {
  decl: string[];
  cmds: Operand[][];
}

/** A node of a parsed template. */
export type TemplateNode =
  | { k: 'text'; s: string }
  | { k: 'action'; pipe: Pipe }
  | BranchNode
  | { k: 'break' | 'continue' }
  | { k: 'template'; name: string; pipe?: Pipe };

/** An `if`, `with` or `range` with its two lists. */
export interface BranchNode {
  k: 'if' | 'with' | 'range';
  pipe: Pipe;
  list: TemplateNode[];
  elseList: TemplateNode[];
}

/** A parsed template: its body and the templates it defines. */
export interface ParsedTemplate {
  name: string;
  body: TemplateNode[];
  defines: Map<string, TemplateNode[]>;
}

/** A template that does not parse, with Go's message. */
export class TemplateSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

type Tok =
  | { t: 'field'; path: string[]; pos: number }
  | { t: 'var'; name: string; path: string[]; pos: number }
  | { t: 'ident'; name: string; pos: number }
  | { t: 'str' | 'num'; v: string; pos: number }
  | { t: '|' | '(' | ')' | ':=' | '=' | ',' | 'dot'; pos: number; path?: string[] };

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

/** Parses a template; `funcs` are the defined function names, `vars` the variables in scope at the start. */
export function parseTemplate(
  name: string,
  text: string,
  funcs: ReadonlySet<string>,
  vars: readonly string[],
): ParsedTemplate {
  return new TemplateParser(name, text, funcs, vars).parse();
}

class TemplateParser {
  private pos = 0;
  private toks: Tok[] = [];
  private tokAt = 0;
  private actionPos = 0;
  private readonly scopes: string[][];
  private readonly defines = new Map<string, TemplateNode[]>();
  private loopDepth = 0;

  constructor(
    private readonly name: string,
    private readonly text: string,
    private readonly funcs: ReadonlySet<string>,
    vars: readonly string[],
  ) {
    this.scopes = [['$', ...vars]];
  }

  parse(): ParsedTemplate {
    const { list, end } = this.list();
    if (end !== 'eof') this.fail(`unexpected {{${end}}}`);
    return { name: this.name, body: list, defines: this.defines };
  }

  private fail(message: string, at = this.actionPos): never {
    const line = 1 + (this.text.slice(0, at).match(/\n/g)?.length ?? 0);
    throw new TemplateSyntaxError(`template: ${this.name}:${line}: ${message}`);
  }

  /** Nodes up to `{{end}}`, `{{else ...}}` or the end of the text. */
  private list(): { list: TemplateNode[]; end: 'eof' | 'end' | 'else'; elseRest?: Tok[] } {
    const list: TemplateNode[] = [];
    for (;;) {
      const open = this.text.indexOf('{{', this.pos);
      let textEnd = open < 0 ? this.text.length : open;
      const trimLeft = open >= 0 && /^\{\{- /.test(this.text.slice(open, open + 4));
      let s = this.text.slice(this.pos, textEnd);
      if (trimLeft) s = s.replace(/\s+$/, '');
      if (this.pendingTrim) s = s.replace(/^\s+/, '');
      this.pendingTrim = false;
      if (s !== '') list.push({ k: 'text', s });
      if (open < 0) {
        this.pos = this.text.length;
        return { list, end: 'eof' };
      }
      this.actionPos = open;
      textEnd = open + (trimLeft ? 4 : 2);
      const body = this.actionBody(textEnd);
      if (body === undefined) continue;
      this.toks = body;
      this.tokAt = 0;
      const first = this.toks[0];
      if (first === undefined) this.fail('missing value for command');
      if (first.t === 'ident') {
        const kw = first.name;
        if (kw === 'end' || kw === 'else') {
          this.tokAt = 1;
          return { list, end: kw, elseRest: this.toks.slice(1) };
        }
        const node = this.control(kw);
        if (node !== undefined) {
          if (node !== null) list.push(node);
          continue;
        }
      }
      list.push({ k: 'action', pipe: this.pipe(true) });
    }
  }

  private pendingTrim = false;

  /** Tokens of the action starting at `start` (after `{{`), or undefined for a comment. */
  private actionBody(start: number): Tok[] | undefined {
    const close = this.findClose(start);
    if (close < 0) this.fail('unclosed action');
    const trimRight = this.text.slice(close - 2, close) === ' -';
    const inner = this.text.slice(start, trimRight ? close - 2 : close);
    this.pos = close + 2;
    this.pendingTrim = trimRight;
    const trimmed = inner.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) this.fail('comment ends before closing delimiter');
      return undefined;
    }
    return this.lex(inner, start);
  }

  /** The position of the `}}` closing an action, skipping quoted strings. */
  private findClose(from: number): number {
    const t = this.text;
    for (let i = from; i < t.length; i++) {
      const c = t[i];
      if (c === '"' || c === '`' || c === "'") {
        const q = c;
        i++;
        while (i < t.length && t[i] !== q) {
          if (t[i] === '\\' && q !== '`') i++;
          if (t[i] === '\n' && q !== '`') this.fail('unterminated quoted string', i);
          i++;
        }
        if (i >= t.length) return -1;
        continue;
      }
      if (c === '}' && t[i + 1] === '}') return i;
    }
    return -1;
  }

  private lex(s: string, base: number): Tok[] {
    const out: Tok[] = [];
    let i = 0;
    const path = (): string[] => {
      const p: string[] = [];
      while (s[i] === '.') {
        IDENT.lastIndex = i + 1;
        const m = IDENT.exec(s);
        if (m === null) break;
        p.push(m[0]);
        i = IDENT.lastIndex;
      }
      return p;
    };
    while (i < s.length) {
      const c = s[i] as string;
      const pos = base + i;
      if (/\s/.test(c)) {
        i++;
      } else if (c === '|' || c === '(' || c === ')' || c === ',' || c === '=') {
        out.push({ t: c, pos });
        i++;
      } else if (c === ':' && s[i + 1] === '=') {
        out.push({ t: ':=', pos });
        i += 2;
      } else if (c === '.') {
        const p = path();
        if (p.length === 0) {
          i++;
          out.push({ t: 'dot', pos });
        } else out.push({ t: 'field', path: p, pos });
      } else if (c === '$') {
        IDENT.lastIndex = i + 1;
        const m = IDENT.exec(s);
        i = m === null ? i + 1 : IDENT.lastIndex;
        const name = `$${m?.[0] ?? ''}`;
        out.push({ t: 'var', name, path: path(), pos });
      } else if (c === '"' || c === '`' || c === "'") {
        let j = i + 1;
        while (j < s.length && s[j] !== c) j += s[j] === '\\' && c !== '`' ? 2 : 1;
        const raw = s.slice(i, j + 1);
        out.push({ t: 'str', v: c === '`' ? raw.slice(1, -1) : unquote(raw, c), pos });
        i = j + 1;
      } else if (/[0-9+-]/.test(c)) {
        const m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+(?:[eE][+-]?[0-9]+)?)/.exec(s.slice(i));
        if (m === null || m[0] === '' || m[0] === '+' || m[0] === '-')
          this.fail(`unexpected "${c}" in command`);
        out.push({ t: 'num', v: m[0], pos });
        i += m[0].length;
      } else {
        IDENT.lastIndex = i;
        const m = IDENT.exec(s);
        if (m === null) this.fail(`unexpected "${c}" in command`);
        i = IDENT.lastIndex;
        out.push({ t: 'ident', name: m[0], pos });
      }
    }
    return out;
  }

  /** A control action (`if`, `range`, ...); undefined when the word is not one, null for `define`. */
  private control(kw: string): TemplateNode | null | undefined {
    if (kw === 'if' || kw === 'with' || kw === 'range') {
      this.tokAt = 1;
      this.scopes.push([]);
      if (kw === 'range') this.loopDepth++;
      const pipe = this.pipe(false);
      const body = this.list();
      if (body.end === 'eof') this.fail('unexpected EOF');
      let elseList: TemplateNode[] = [];
      if (body.end === 'else') {
        if (kw === 'range') this.loopDepth--;
        const rest = body.elseRest ?? [];
        if (rest.length > 0 && rest[0]?.t === 'ident' && (rest[0].name === 'if' || rest[0].name === 'with')) {
          // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing the outer end.
          this.toks = rest;
          const nested = this.control(rest[0].name);
          elseList = nested ? [nested] : [];
        } else {
          const tail = this.list();
          if (tail.end !== 'end')
            this.fail(tail.end === 'eof' ? 'unexpected EOF' : 'expected end; found {{else}}');
          elseList = tail.list;
        }
      } else if (kw === 'range') this.loopDepth--;
      this.scopes.pop();
      return { k: kw, pipe, list: body.list, elseList };
    }
    if (kw === 'break' || kw === 'continue') {
      if (this.loopDepth === 0) this.fail(`{{${kw}}} outside {{range}}`);
      return { k: kw };
    }
    if (kw === 'template' || kw === 'block') {
      const nameTok = this.toks[1];
      if (nameTok?.t !== 'str') this.fail(`unexpected ${tokText(nameTok)} in template clause`);
      this.tokAt = 2;
      const pipe = this.tokAt < this.toks.length ? this.pipe(false) : undefined;
      if (kw === 'block') {
        const body = this.list();
        if (body.end !== 'end') this.fail('unexpected EOF');
        this.defines.set(nameTok.v, body.list);
      }
      return { k: 'template', name: nameTok.v, pipe };
    }
    if (kw === 'define') {
      const nameTok = this.toks[1];
      if (nameTok?.t !== 'str') this.fail('expected string; found invalid name');
      const body = this.list();
      if (body.end !== 'end') this.fail('unexpected EOF');
      this.defines.set(nameTok.v, body.list);
      return null;
    }
    return undefined;
  }

  private pipe(allowAssign: boolean): Pipe {
    const decl: string[] = [];
    const save = this.tokAt;
    // `$x :=`, `$x =`, `$i, $e :=` (range).
    while (this.toks[this.tokAt]?.t === 'var') {
      const v = this.toks[this.tokAt] as { name: string; path: string[] };
      const next = this.toks[this.tokAt + 1];
      if (next?.t === ':=' || next?.t === '=') {
        decl.push(v.name);
        this.tokAt += 2;
        if (next.t === ':=') this.declare(v.name);
        else if (!this.known(v.name)) this.fail(`undefined variable "${v.name}"`);
        break;
      }
      if (next?.t === ',') {
        decl.push(v.name);
        this.tokAt += 2;
        continue;
      }
      break;
    }
    if (decl.length > 0 && this.toks[this.tokAt - 1]?.t === ',') {
      this.tokAt = save;
      decl.length = 0;
    }
    for (const d of decl) this.declare(d);
    void allowAssign;
    const cmds: Operand[][] = [];
    let cmd: Operand[] = [];
    while (this.tokAt < this.toks.length) {
      const tok = this.toks[this.tokAt] as Tok;
      if (tok.t === ')') break;
      this.tokAt++;
      if (tok.t === '|') {
        if (cmd.length === 0) this.fail('missing command');
        cmds.push(cmd);
        cmd = [];
        continue;
      }
      cmd.push(this.operand(tok));
    }
    if (cmd.length === 0) this.fail(cmds.length === 0 ? 'missing value for command' : 'missing command');
    cmds.push(cmd);
    return { decl, cmds };
  }

  private operand(tok: Tok): Operand {
    switch (tok.t) {
      case 'dot':
        return { k: 'field', base: 'dot', path: [] };
      case 'field':
        return { k: 'field', base: 'dot', path: tok.path };
      case 'var':
        if (!this.known(tok.name)) this.fail(`undefined variable "${tok.name}"`);
        return { k: 'field', base: tok.name, path: tok.path };
      case 'str':
        return { k: 'str', s: tok.v };
      case 'num': {
        const n = Number(tok.v.replaceAll('_', ''));
        if (Number.isNaN(n)) this.fail(`illegal number syntax: "${tok.v}"`);
        return { k: 'num', n };
      }
      case 'ident':
        if (tok.name === 'true' || tok.name === 'false') return { k: 'bool', b: tok.name === 'true' };
        if (tok.name === 'nil') return { k: 'nil' };
        if (!this.funcs.has(tok.name)) this.fail(`function "${tok.name}" not defined`);
        return { k: 'ident', name: tok.name };
      case '(': {
        const pipe = this.pipe(false);
        const close = this.toks[this.tokAt];
        if (close?.t !== ')') this.fail('unclosed left paren');
        this.tokAt++;
        return { k: 'pipe', pipe, path: close.path ?? [] };
      }
      default:
        this.fail(`unexpected ${tokText(tok)} in operand`);
    }
  }

  private declare(name: string): void {
    this.scopes[this.scopes.length - 1]?.push(name);
  }

  private known(name: string): boolean {
    return this.scopes.some((s) => s.includes(name));
  }
}

function tokText(tok: Tok | undefined): string {
  if (tok === undefined) return 'EOF';
  if ('name' in tok) return `"${tok.name}"`;
  if ('v' in tok) return `"${tok.v}"`;
  return `"${tok.t}"`;
}

function unquote(raw: string, quote: string): string {
  if (quote === "'") return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}
