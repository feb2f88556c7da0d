/**
 * The operation word of a statement (SELECT, INSERT …), the only part of SQL used as a label or in
 * a span name: anything outside the list is OTHER, so label values stay bounded.
 */
export function operationOf(sql: string): string {
  const m = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(sql);
  const op = m?.[1]?.toUpperCase() ?? 'OTHER';
  return /^(SELECT|INSERT|UPDATE|DELETE|WITH|BEGIN|COMMIT|ROLLBACK|CREATE|ALTER|DROP|SET|SHOW|COPY|LOCK|TRUNCATE|VALUES)$/.test(op) ? op : 'OTHER';
}
