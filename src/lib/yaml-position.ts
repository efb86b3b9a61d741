/**
 * Where a path (`['rules', 2, 'level']`) sits in a parsed YAML document, as 1-based line and
 * column, so every problem report (content files, audit policies) can point at the text. Pure:
 * shared by the browser and the server.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

/**
 * Position of the node at `path`, or of its nearest existing ancestor. `keyOnly` points at the
 * mapping key rather than its value (an unknown field is the key's fault, not the value's).
 */
export function yamlPosition(doc: Document, lines: LineCounter, path: readonly PropertyKey[], keyOnly = false): { line?: number; column?: number } {
  let node: unknown = doc.contents;
  let range: readonly number[] | null | undefined = (node as { range?: number[] } | null)?.range;
  for (const segment of path) {
    let next: unknown;
    let keyRange: readonly number[] | null | undefined;
    if (isMap(node)) {
      // Of duplicated keys, the last is the one a YAML loader keeps.
      const pair = node.items.findLast((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair) {
        next = pair.value;
        keyRange = (pair.key as { range?: number[] }).range;
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (next === undefined && keyRange === undefined) break;
    node = next;
    const nodeRange = (next as { range?: number[] } | null)?.range;
    range = keyOnly || !nodeRange ? (keyRange ?? nodeRange) : nodeRange;
  }
  if (!range) return {};
  const pos = lines.linePos(range[0] ?? 0);
  return { line: pos.line, column: pos.col };
}
