import {
  goF,
  goFloat,
  goG,
  humanize,
  humanize1024,
  humanizeDuration,
  humanizePercentage,
  humanizeTimestamp,
} from './go-format.js';
import {
  type BranchNode,
  type Operand,
  type ParsedTemplate,
  type Pipe,
  parseTemplate,
  type TemplateNode,
} from './template-parse.js';

/**
 * Prometheus' alert templates: the text of a label or annotation of an
 * alerting rule, expanded per alert with `$labels`, `$externalLabels`,
 * `$externalURL` and `$value` defined (`.Labels`, `.Value`, ... on the dot)
 * and Prometheus' template functions. Missing map keys read as "" (Go's
 * `missingkey=zero`). The parser is in `template-parse.ts`.
 */

/** One sample of a `query` result inside a template: `.Labels` and `.Value`. */
export interface TemplateSample {
  Labels: Record<string, string>;
  Value: number;
}

/** Runs a PromQL query for the `query` template function. */
export type TemplateQuery = (expr: string) => Promise<TemplateSample[]>;

/** The data of one expansion. */
export interface TemplateData {
  labels: Record<string, string>;
  externalLabels?: Record<string, string>;
  externalURL?: string;
  value: number;
  /** Evaluation time, ms (for `query`). */
  query?: TemplateQuery;
}

const VARS = ['$labels', '$externalLabels', '$externalURL', '$value'];

type Fn = (...args: unknown[]) => unknown;

const FUNCS: Record<string, Fn> = {
  humanize: (v) => humanize(toNumber(v)),
  humanize1024: (v) => humanize1024(toNumber(v)),
  humanizeDuration: (v) => humanizeDuration(toNumber(v)),
  humanizePercentage: (v) => humanizePercentage(toNumber(v)),
  humanizeTimestamp: (v) => humanizeTimestamp(toNumber(v)),
  toTime: (v) => new Date(toNumber(v) * 1000).toISOString(),
  toDuration: (v) => toNumber(v),
  title: (s) => String(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  toUpper: (s) => String(s).toUpperCase(),
  toLower: (s) => String(s).toLowerCase(),
  match: (re, s) => new RegExp(String(re)).test(String(s)),
  reReplaceAll: (re, repl, s) =>
    String(s).replace(new RegExp(String(re), 'g'), String(repl).replace(/\$\{?(\w+)\}?/g, '$$<$1>')),
  label: (name, sample) => (sample as TemplateSample | undefined)?.Labels[String(name)] ?? '',
  value: (sample) => (sample as TemplateSample | undefined)?.Value ?? 0,
  first: (list) => {
    const l = list as unknown[];
    if (!Array.isArray(l) || l.length === 0) throw new Error('first() called on vector with no elements');
    return l[0];
  },
  strvalue: (sample) => (sample as TemplateSample | undefined)?.Labels.__value__ ?? '',
  sortByLabel: (name, list) =>
    [...(list as TemplateSample[])].sort((a, b) =>
      (a.Labels[String(name)] ?? '').localeCompare(b.Labels[String(name)] ?? ''),
    ),
  args: (...a) => Object.fromEntries(a.map((v, i) => [`arg${i}`, v])),
  safeHtml: (s) => String(s),
  stripPort: (s) => String(s).replace(/:\d+$/, ''),
  stripDomain: (s) => String(s).replace(/^([^.:]+)\.[^:]*/, '$1'),
  pathPrefix: () => '',
  externalURL: () => '',
  graphLink: (e) => `/graph?g0.expr=${encodeURIComponent(String(e))}&g0.tab=0`,
  tableLink: (e) => `/graph?g0.expr=${encodeURIComponent(String(e))}&g0.tab=1`,
  parseDuration: (s) => Number(String(s).replace(/s$/, '')),
  printf: (fmt, ...a) => goSprintf(String(fmt), a),
  print: (...a) => a.map(show).join(''),
  println: (...a) => `${a.map(show).join(' ')}\n`,
  len: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys(v ?? {}).length),
  index: (m, k) => (m as Record<string, unknown>)[String(k)] ?? '',
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
  html: (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
  js: (s) => JSON.stringify(String(s)).slice(1, -1),
  urlquery: (...a) => encodeURIComponent(a.map(show).join('')),
  query: () => [],
};

const FUNC_NAMES: ReadonlySet<string> = new Set(Object.keys(FUNCS));

/** Parses a template as Prometheus does before it accepts a rule; throws `TemplateSyntaxError`. */
export function checkTemplate(name: string, text: string): void {
  parseTemplate(name, text, FUNC_NAMES, VARS);
}

/** A parsed template, ready to expand. */
export class AlertTemplate {
  private readonly parsed: ParsedTemplate;

  constructor(name: string, text: string) {
    this.parsed = parseTemplate(name, text, FUNC_NAMES, VARS);
  }

  /** Expands the template; an execution error is thrown with Go's `template: NAME: ...` prefix. */
  async expand(data: TemplateData): Promise<string> {
    const dot = {
      Labels: data.labels,
      ExternalLabels: data.externalLabels ?? {},
      ExternalURL: data.externalURL ?? '',
      Value: data.value,
    };
    const vars = new Map<string, unknown>([
      ['$', dot],
      ['$labels', dot.Labels],
      ['$externalLabels', dot.ExternalLabels],
      ['$externalURL', dot.ExternalURL],
      ['$value', dot.Value],
    ]);
    const out: string[] = [];
    try {
      await new Executor(this.parsed, data.query, out).list(this.parsed.body, dot, vars);
    } catch (err) {
      if (err instanceof LoopSignal) return out.join('');
      throw new Error(`template: ${this.parsed.name}: ${(err as Error).message}`, { cause: err });
    }
    return out.join('');
  }
}

class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}

class Executor {
  constructor(
    private readonly tmpl: ParsedTemplate,
    private readonly query: TemplateQuery | undefined,
    private readonly out: string[],
  ) {}

  async list(nodes: readonly TemplateNode[], dot: unknown, vars: Map<string, unknown>): Promise<void> {
    for (const node of nodes) await this.node(node, dot, vars);
  }

  private async node(node: TemplateNode, dot: unknown, vars: Map<string, unknown>): Promise<void> {
    switch (node.k) {
      case 'text':
        this.out.push(node.s);
        return;
      case 'action': {
        const v = await this.pipe(node.pipe, dot, vars);
        if (node.pipe.decl.length === 0) this.out.push(show(v));
        return;
      }
      case 'if':
      case 'with': {
        const scope = new Map(vars);
        const v = await this.pipe(node.pipe, dot, scope);
        if (truthy(v)) await this.list(node.list, node.k === 'with' ? v : dot, scope);
        else await this.list(node.elseList, dot, scope);
        return;
      }
      case 'range':
        return this.range(node, dot, vars);
      case 'break':
      case 'continue':
        throw new LoopSignal(node.k);
      case 'template': {
        const body = this.tmpl.defines.get(node.name);
        if (body === undefined) throw new Error(`no such template "${node.name}"`);
        const arg = node.pipe === undefined ? undefined : await this.pipe(node.pipe, dot, vars);
        await this.list(body, arg, new Map([['$', arg]]));
        return;
      }
    }
  }

  private async range(node: BranchNode, dot: unknown, vars: Map<string, unknown>): Promise<void> {
    const scope = new Map(vars);
    const decl = node.pipe.decl;
    const v = await this.pipe({ decl: [], cmds: node.pipe.cmds }, dot, scope);
    const entries: [unknown, unknown][] = Array.isArray(v)
      ? v.map((x, i) => [i, x])
      : typeof v === 'object' && v !== null
        ? Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]])
        : typeof v === 'number'
          ? Array.from({ length: v }, (_, i) => [i, i])
          : [];
    if (entries.length === 0) return this.list(node.elseList, dot, scope);
    for (const [k, x] of entries) {
      if (decl.length === 1) scope.set(decl[0] as string, x);
      if (decl.length === 2) {
        scope.set(decl[0] as string, k);
        scope.set(decl[1] as string, x);
      }
      try {
        await this.list(node.list, x, scope);
      } catch (err) {
        if (!(err instanceof LoopSignal)) throw err;
        if (err.kind === 'break') break;
      }
    }
  }

  private async pipe(pipe: Pipe, dot: unknown, vars: Map<string, unknown>): Promise<unknown> {
    let prev: unknown;
    let first = true;
    for (const cmd of pipe.cmds) {
      prev = await this.command(cmd, dot, vars, first ? undefined : { v: prev });
      first = false;
    }
    for (const d of pipe.decl) vars.set(d, prev);
    return prev;
  }

  private async command(
    cmd: readonly Operand[],
    dot: unknown,
    vars: Map<string, unknown>,
    piped: { v: unknown } | undefined,
  ): Promise<unknown> {
    const head = cmd[0] as Operand;
    if (head.k === 'ident') {
      const args: unknown[] = [];
      for (const a of cmd.slice(1)) args.push(await this.operand(a, dot, vars));
      if (piped !== undefined) args.push(piped.v);
      if (head.name === 'query') {
        if (this.query === undefined) throw new Error('error calling query: no query engine');
        return this.query(String(args[0]));
      }
      try {
        return (FUNCS[head.name] as Fn)(...args);
      } catch (err) {
        throw new Error(`error calling ${head.name}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (cmd.length > 1 || piped !== undefined) throw new Error(`can't give argument to non-function`);
    return this.operand(head, dot, vars);
  }

  private async operand(op: Operand, dot: unknown, vars: Map<string, unknown>): Promise<unknown> {
    switch (op.k) {
      case 'str':
        return op.s;
      case 'num':
        return op.n;
      case 'bool':
        return op.b;
      case 'nil':
        return undefined;
      case 'ident':
        return this.command([op], dot, vars, undefined);
      case 'field':
        return walk(op.base === 'dot' ? dot : vars.get(op.base), op.path);
      case 'pipe':
        return walk(await this.pipe(op.pipe, dot, new Map(vars)), op.path);
    }
  }
}

function walk(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object')
      throw new Error(`can't evaluate field ${p} in type ${typeName(cur)}`);
    cur = (cur as Record<string, unknown>)[p] ?? '';
  }
  return cur;
}

function typeName(v: unknown): string {
  return typeof v === 'number' ? 'float64' : typeof v === 'string' ? 'string' : 'interface {}';
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const n = Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(n)) return n;
  if (typeof v === 'string' && /^[+-]?(inf|nan)$/i.test(v)) return Number(v.replace(/inf/i, 'Infinity'));
  throw new Error(`strconv.ParseFloat: parsing "${String(v)}": invalid syntax`);
}

/** A value as Go's `fmt.Sprint` writes it inside a template. */
function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${show((v as Record<string, unknown>)[k])}`).join(' ')}]`;
}

/** Go's `fmt.Sprintf` for the verbs templates use: %s %v %d %f %g %e %q %x %%. */
export function goSprintf(fmt: string, args: readonly unknown[]): string {
  let i = 0;
  return fmt.replace(/%([-+ #0]*)(\d+)?(?:\.(\d+))?([svdfgeqxX%])/g, (_m, _flags, width, prec, verb) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++];
    const p = prec === undefined ? undefined : Number(prec);
    let s: string;
    switch (verb) {
      case 'd':
        s = typeof a === 'number' && Number.isInteger(a) ? String(a) : `%!d(${typeName(a)}=${show(a)})`;
        break;
      case 'f':
        s = typeof a === 'number' ? goF(a, p ?? 6) : `%!f(${typeName(a)}=${show(a)})`;
        break;
      case 'g':
        s =
          typeof a === 'number'
            ? p === undefined
              ? goFloat(a)
              : goG(a, p)
            : `%!g(${typeName(a)}=${show(a)})`;
        break;
      case 'e':
        s = typeof a === 'number' ? a.toExponential(p ?? 6).replace(/e([+-])(\d)$/, 'e$10$2') : show(a);
        break;
      case 'q':
        s = JSON.stringify(show(a));
        break;
      case 'x':
      case 'X':
        s = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(show(a)).toString('hex');
        if (verb === 'X') s = s.toUpperCase();
        break;
      default:
        s = show(a);
    }
    return width === undefined ? s : s.padStart(Number(width));
  });
}
