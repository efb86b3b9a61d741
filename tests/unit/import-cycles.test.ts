// No module of src/server imports itself back, through any chain of imports (type-only imports
// count too: a circle in types is still two modules that cannot be read, moved or tested apart).
// A small resolver over the .ts sources: TypeScript's own pre-processor lists each file's imports
// (static, dynamic, re-exports), relative specifiers are resolved to files, and Tarjan's algorithm
// finds every strongly connected component larger than one file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve('src/server');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The files under src/ a module imports (relative specifiers only: packages cannot import us back). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.flatMap(({ fileName }) => {
    if (!fileName.startsWith('.')) return [];
    const target = path.resolve(path.dirname(file), fileName);
    for (const candidate of [target, `${target}.ts`, `${target}.tsx`, path.join(target, 'index.ts')]) {
      try {
        if (statSync(candidate).isFile()) return [candidate];
      } catch {
        // not this form of the specifier
      }
    }
    return [];
  });
}

/** Every strongly connected component with more than one module, each as a list of paths. */
export function importCycles(roots: string[]): string[][] {
  const graph = new Map<string, string[]>();
  const pending = [...roots];
  while (pending.length) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const next = importsOf(file);
    graph.set(file, next);
    pending.push(...next.filter((n) => !graph.has(n)));
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = component.length === 1 && (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) components.push(component.map((f) => path.relative(process.cwd(), f)).sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components;
}

describe('imports of src/server', () => {
  it('form no circle', () => {
    const cycles = importCycles(sources(ROOT));
    expect(cycles, `modules that import each other (directly or through others):\n${cycles.map((c) => `  ${c.join(' ↔ ')}`).join('\n')}`).toEqual([]);
  });

  it('the resolver sees a circle when there is one', () => {
    // Guards the guard: two fixture files that import each other's types are found.
    const fixtures = path.resolve('tests/unit/fixtures/import-cycle');
    expect(importCycles([path.join(fixtures, 'a.ts')])).toEqual([[path.relative(process.cwd(), path.join(fixtures, 'a.ts')), path.relative(process.cwd(), path.join(fixtures, 'b.ts'))]]);
  });
});
