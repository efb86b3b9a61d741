/** A mistake in a query, positioned so that a person can see where and what to write instead. */
export class QueryError extends Error {
  /** 1-based column of the first character of the mistake. */
  readonly column: number;
  /** How many characters the mistake spans (at least 1). */
  readonly length: number;
  /** What to write instead, when there is a good guess. */
  readonly hint: string | undefined;

  constructor(message: string, column: number, length = 1, hint?: string) {
    super(message);
    this.name = 'QueryError';
    this.column = column;
    this.length = Math.max(1, length);
    this.hint = hint;
  }
}

/** The query, a caret line under the mistake, the message and the hint. */
export function formatQueryError(query: string, error: QueryError): string {
  // Multi-line queries: show the line the column falls on.
  let offset = 0;
  const lines = query.split('\n');
  let lineIndex = 0;
  while (lineIndex < lines.length - 1 && offset + lines[lineIndex]!.length + 1 < error.column) {
    offset += lines[lineIndex]!.length + 1;
    lineIndex++;
  }
  const line = lines[lineIndex] ?? '';
  const col = error.column - offset;
  const where = lines.length > 1 ? `line ${lineIndex + 1}, column ${col}` : `column ${col}`;
  return [
    `  ${line}`,
    `  ${' '.repeat(Math.max(0, col - 1))}${'^'.repeat(Math.min(error.length, Math.max(1, line.length - col + 1)))}`,
    `${where}: ${error.message}`,
    ...(error.hint ? [`fix: ${error.hint}`] : []),
  ].join('\n');
}
