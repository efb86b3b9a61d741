/**
 * How big a query may be. Queries come from untrusted learners and run on the server: the parser
 * refuses anything larger with a QueryError at a column, so that neither parsing nor evaluation
 * can recurse without bound (3,000 nested parentheses used to overflow the stack).
 */

/** Characters of query text. */
export const MAX_QUERY_LENGTH = 10_000;

/** Parentheses and NOTs nested inside one another, counted together. */
export const MAX_NESTING = 64;

/** `| stage`s after the filter. */
export const MAX_STAGES = 64;

/**
 * Depth of a condition's tree that the parser can produce: each parenthesis may add an AND and an
 * OR node, each NOT one node, plus the top OR and AND. The evaluator refuses deeper trees.
 */
export const MAX_TREE_DEPTH = 2 * MAX_NESTING + 3;
