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

/** The line of the query a column falls on, a caret line under the mistake, and where it is. */
export function caretLines(query: string, column: number, length = 1): { line: string; caret: string; where: string } {
  const lines = query.split('\n');
  let offset = 0;
  let index = 0;
  while (index < lines.length - 1 && offset + lines[index]!.length + 1 < column) {
    offset += lines[index]!.length + 1;
    index++;
  }
  const line = lines[index] ?? '';
  const col = column - offset;
  return {
    line,
    caret: `${' '.repeat(Math.max(0, col - 1))}${'^'.repeat(Math.min(length, Math.max(1, line.length - col + 1)))}`,
    where: lines.length > 1 ? `line ${index + 1}, column ${col}` : `column ${col}`,
  };
}

/** The query, a caret line under the mistake, the message and the hint. */
export function formatQueryError(query: string, error: QueryError): string {
  const { line, caret, where } = caretLines(query, error.column, error.length);
  return [`  ${line}`, `  ${caret}`, `${where}: ${error.message}`, ...(error.hint ? [`fix: ${error.hint}`] : [])].join('\n');
}
