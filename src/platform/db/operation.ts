/** Statement texts whose operation is kept: the service's own SQL is a few dozen constant texts. */
const KEPT = 1000;
const known = new Map<string, string>();

/**
 * The operation word of a statement (SELECT, INSERT …), the only part of SQL used as a label or in
 * a span name: anything outside the list is OTHER, so label values stay bounded.
 *
 * Asked for every query (its span name and duration series), so the answer is kept per text, for
 * the first KEPT texts: two regular expressions and an upper-casing per query otherwise.
 */
export function operationOf(sql: string): string {
  let op = known.get(sql);
  if (op === undefined) {
    op = parseOperation(sql);
    if (known.size < KEPT) known.set(sql, op);
  }
  return op;
}

function parseOperation(sql: string): string {
  const m = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(sql);
  const op = m?.[1]?.toUpperCase() ?? 'OTHER';
  return /^(SELECT|INSERT|UPDATE|DELETE|WITH|BEGIN|COMMIT|ROLLBACK|CREATE|ALTER|DROP|SET|SHOW|COPY|LOCK|TRUNCATE|VALUES)$/.test(op) ? op : 'OTHER';
}
