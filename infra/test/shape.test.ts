import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@promstream/testkit';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The shape the code keeps (STYLE.md): no source file over 700 lines and
// no function over 120 lines, tests aside; and every package declares the
// packages of ours it imports (its code in dependencies, its tests and
// benchmarks at least in devDependencies).

const MAX_FILE_LINES = 700;
const MAX_FUNCTION_LINES = 120;

/** The workspace package folders, from the root package.json. */
function packageDirs(): string[] {
  const root = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  return root.workspaces;
}

/** Every .ts file under dir, skipping dependencies, build output and nested packages. */
function tsFiles(dir: string, nestedPackages: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (['node_modules', 'dist', '.turbo', 'data'].includes(entry.name)) continue;
      if (nestedPackages.includes(full)) continue;
      out.push(...tsFiles(full, nestedPackages));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out;
}

/** Whether a file is a test or test support (which may be longer). */
function isTest(file: string): boolean {
  const rel = path.relative(repoRoot, file);
  return (
    rel.endsWith('.test.ts') || rel.split(path.sep).includes('test') || rel.startsWith(`tests${path.sep}`)
  );
}

/** All .ts files of every package, with the package folder each belongs to. */
function allFiles(): { pkg: string; file: string }[] {
  const dirs = packageDirs().map((d) => path.join(repoRoot, d));
  return dirs.flatMap((pkg) =>
    tsFiles(
      pkg,
      dirs.filter((d) => d !== pkg),
    ).map((file) => ({ pkg, file })),
  );
}

/** Lines as `wc -l` counts them (a last line without a newline counts too). */
function lineCount(text: string): number {
  const breaks = text.split('\n').length - 1;
  return text.endsWith('\n') || text === '' ? breaks : breaks + 1;
}

/** A function-like node's name for the report. */
function functionName(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name !== undefined) return named.name.getText(source);
  const parent = node.parent;
  if (parent !== undefined && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
  if (parent !== undefined && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  return '(anonymous)';
}

/** Functions of a source file longer than the limit, as `path:line name (n lines)`. */
function longFunctions(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > MAX_FUNCTION_LINES) {
        found.push(
          `${path.relative(repoRoot, file)}:${start + 1} ${functionName(node, source)} (${lines} lines)`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the shape of the code', () => {
  const sources = allFiles().filter(({ file }) => !isTest(file));

  it('finds the sources it checks', () => {
    // A wrong walk would pass every check on nothing.
    expect(sources.length).toBeGreaterThan(200);
    expect(sources.some(({ file }) => file.endsWith(path.join('query', 'src', 'promql', 'engine.ts')))).toBe(
      true,
    );
    expect(sources.some(({ file }) => file.endsWith(path.join('broker', 'src', 'broker.ts')))).toBe(true);
  });

  it(`keeps every source file at ${MAX_FILE_LINES} lines or fewer`, () => {
    const long = sources
      .map(({ file }) => ({ file, lines: lineCount(readFileSync(file, 'utf8')) }))
      .filter((f) => f.lines > MAX_FILE_LINES)
      .map((f) => `${path.relative(repoRoot, f.file)} (${f.lines} lines)`);
    expect(long).toEqual([]);
  });

  it(`keeps every function at ${MAX_FUNCTION_LINES} lines or fewer`, () => {
    expect(sources.flatMap(({ file }) => longFunctions(file))).toEqual([]);
  });

  it('has every package declare the packages of ours it imports', () => {
    const manifests = new Map(
      packageDirs().map((d) => {
        const m = JSON.parse(readFileSync(path.join(repoRoot, d, 'package.json'), 'utf8')) as {
          name: string;
          dependencies?: Record<string, string>;
          devDependencies?: Record<string, string>;
        };
        return [path.join(repoRoot, d), m];
      }),
    );
    const missing = new Set<string>();
    for (const { pkg, file } of allFiles()) {
      const m = manifests.get(pkg)!;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/from '(@promstream\/[a-z-]+)/g)) {
        const dep = match[1]!;
        if (dep === m.name) continue;
        const declared =
          isTest(file) || file.includes('.bench.') || file.includes(`${path.sep}bench${path.sep}`)
            ? (m.dependencies?.[dep] ?? m.devDependencies?.[dep])
            : m.dependencies?.[dep];
        if (declared === undefined) missing.add(`${path.relative(repoRoot, file)} imports ${dep}`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
