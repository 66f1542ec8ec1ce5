#!/usr/bin/env node
/**
 * Makes a package's bundled declarations (dist/*.d.ts, run from the package directory after
 * tsup) the public types: what is marked `@internal` leaves, and the file type-checks in a
 * consumer project with neither DOM nor @types/node and with `skipLibCheck` off.
 *
 * - Members marked `@internal` leave every class and interface, and an export marked
 *   `@internal` leaves the export list (its code still ships: adapters and tests reach it
 *   by name; it is not covered by semver).
 * - Then only declarations an export reaches are kept, so internal classes whose only
 *   users were internal members (WakeTable, Fifo, TimerList, ...) leave with them. An
 *   `@internal` declaration a public one still extends or names (a lock base class) stays,
 *   unexported, with its internal members gone: removing it would break its users.
 * - aio-core's sources get `URL` from base/globals.d.ts (not published) and the disposal
 *   symbols from their compiler's lib; a file that names them gets the prelude below.
 *
 * scripts/pack-test.mjs type-checks the result as a user's compiler does (nodenext, no
 * skipLibCheck, with and without @types/node), which is what proves nothing it keeps names
 * something it dropped.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import ts from 'typescript';

/**
 * Host types the declarations name, for files that name them. `URL` is the runtime's own
 * class where the consumer's types declare one (DOM, @types/node, Deno, Bun), else the part
 * of a URL aio reads. `Symbol.dispose` and `Symbol.asyncDispose` come from TypeScript's own
 * lib (which @types/node and Deno's types agree with), referenced rather than redeclared:
 * JSR refuses global augmentations.
 */
const PRELUDE = [
  {
    needed: (file) => file.names.has('URL') && !file.declared.has('URL'),
    declaration: 'type URL = typeof globalThis extends { URL: abstract new (...args: never[]) => infer U } ? U : { readonly href: string; toString(): string };',
  },
  {
    needed: (file) => /\bSymbol\.(dispose|asyncDispose)\b/.test(file.text) && !file.text.startsWith('/// <reference lib="esnext.disposable" />'),
    directive: '/// <reference lib="esnext.disposable" />',
  },
];

function isInternal(node, text) {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  return ranges.some((r) => text.slice(r.pos, r.end).startsWith('/**') && /@internal\b/.test(text.slice(r.pos, r.end)));
}

function declaredNames(statement) {
  if (ts.isVariableStatement(statement)) return statement.declarationList.declarations.map((d) => d.name.getText());
  return statement.name ? [statement.name.text] : [];
}

/** The identifiers `node` names, except inside the members being removed. */
function namesUsed(node, removed, into) {
  const visit = (n) => {
    if (removed.has(n)) return;
    if (ts.isIdentifier(n)) into.add(n.text);
    ts.forEachChild(n, visit);
  };
  visit(node);
}

function publicTypes(text) {
  const sf = ts.createSourceFile('index.d.ts', text, ts.ScriptTarget.Latest, true);
  const removed = new Set();
  const declarations = new Map();
  const roots = new Set();
  let exportList = null;
  for (const s of sf.statements) {
    if (ts.isExportDeclaration(s) && !s.moduleSpecifier && s.exportClause && ts.isNamedExports(s.exportClause)) {
      exportList = s.exportClause;
      continue;
    }
    if (ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s)) {
      for (const m of s.members) if (isInternal(m, text)) removed.add(m);
    }
    const names = declaredNames(s);
    for (const name of names) declarations.set(name, [...(declarations.get(name) ?? []), s]);
    if (names.length === 0 || s.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) namesUsed(s, removed, roots);
  }
  for (const spec of exportList?.elements ?? []) {
    const local = (spec.propertyName ?? spec.name).text;
    const decls = declarations.get(local) ?? [];
    if (decls.length > 0 && decls.every((d) => isInternal(d, text))) removed.add(spec);
    else roots.add(local);
  }
  // `implements` only checks a class (its type is its members): an internal interface leaves the clause.
  for (const decls of declarations.values()) {
    for (const d of decls) {
      for (const clause of (ts.isClassDeclaration(d) && d.heritageClauses) || []) {
        if (clause.token !== ts.SyntaxKind.ImplementsKeyword) continue;
        const internal = clause.types.filter((t) => (declarations.get(t.expression.getText()) ?? []).some((i) => isInternal(i, text)));
        if (internal.length === clause.types.length) removed.add(clause);
        else for (const t of internal) removed.add(t);
      }
    }
  }
  // Keep what the roots reach, following names through every kept declaration.
  const kept = new Set();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop();
    for (const d of declarations.get(name) ?? []) {
      if (kept.has(d)) continue;
      kept.add(d);
      const used = new Set();
      namesUsed(d, removed, used);
      queue.push(...used);
    }
  }
  for (const decls of declarations.values()) for (const d of decls) if (!kept.has(d)) removed.add(d);

  // A removed declaration takes its members with it: cut only the outermost nodes.
  const outermost = [...removed].filter((n) => !removed.has(n.parent));
  const cuts = outermost.map((n) => {
    if (!ts.isExportSpecifier(n) && !ts.isExpressionWithTypeArguments(n)) return [n.getFullStart(), n.getEnd()];
    // A list item goes with the comma that follows it (or, when last, precedes it).
    const list = ts.isExportSpecifier(n) ? n.parent.elements : n.parent.types;
    const i = list.indexOf(n);
    return i + 1 < list.length ? [n.getStart(), list[i + 1].getStart()] : [list[i - 1].getEnd(), n.getEnd()];
  });
  cuts.sort((a, b) => b[0] - a[0]);
  let out = text;
  for (const [from, to] of cuts) out = out.slice(0, from) + out.slice(to);

  const rest = ts.createSourceFile('index.d.ts', out, ts.ScriptTarget.Latest, true);
  const file = { text: out, names: new Set(), declared: new Set(rest.statements.flatMap(declaredNames)) };
  namesUsed(rest, new Set(), file.names);
  const prelude = PRELUDE.filter((p) => p.needed(file));
  const directives = prelude.flatMap((p) => p.directive ?? []);
  const aliases = prelude.flatMap((p) => p.declaration ?? []);
  if (aliases.length > 0) {
    const first = rest.statements.find((s) => !ts.isImportDeclaration(s) && !ts.isExportDeclaration(s));
    const at = first ? first.getFullStart() : out.length;
    out = `${out.slice(0, at)}\n${aliases.join('\n')}\n${out.slice(at)}`;
  }
  // Triple-slash directives count only before the first statement.
  return directives.length > 0 ? `${directives.join('\n')}\n${out}` : out;
}

for (const file of readdirSync('dist').filter((f) => f.endsWith('.d.ts'))) {
  const path = `dist/${file}`;
  writeFileSync(path, publicTypes(readFileSync(path, 'utf8')));
}
