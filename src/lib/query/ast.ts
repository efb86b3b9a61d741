/** The parsed form of a query. Columns are kept so that later checks can point at the source. */

export type Literal =
  | { kind: 'string'; value: string; /** indexes of wildcard stars in `value` */ stars: number[] }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface FieldRef {
  /** Segments of the dotted path, quotes removed. */
  path: string[];
  /** The path as written in the query (for messages and column names). */
  text: string;
  column: number;
  length: number;
}

export type Expr =
  | { type: 'or'; items: Expr[] }
  | { type: 'and'; items: Expr[] }
  | { type: 'not'; expr: Expr }
  | { type: 'compare'; field: FieldRef; op: CompareOp; value: Literal; valueColumn: number }
  | { type: 'in'; field: FieldRef; negated: boolean; values: Literal[] }
  | { type: 'exists'; field: FieldRef };

export type Stage =
  | { type: 'where'; expr: Expr }
  | { type: 'count'; by: FieldRef[] }
  | { type: 'dc'; field: FieldRef; by: FieldRef[] }
  | { type: 'sort'; field: FieldRef; descending: boolean }
  | { type: 'head'; n: number }
  | { type: 'bin'; /** window length in milliseconds */ ms: number; text: string };

export interface Query {
  /** The filter before the first pipe; `undefined` when the query starts with a pipe or is empty (match all). */
  filter: Expr | undefined;
  stages: Stage[];
  /** The source text. */
  source: string;
}
