/**
 * A parameterised WHERE clause for list queries with optional filters. Values only ever travel
 * as parameters: `param` hands out the next `$n`, `add` replaces every `?` of one condition with
 * the same parameter.
 */
export class Conditions {
  readonly values: unknown[] = [];
  private readonly parts: string[] = [];

  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  where(sql: string): this {
    this.parts.push(sql);
    return this;
  }

  add(sql: string, value: unknown): this {
    return this.where(sql.replaceAll('?', this.param(value)));
  }

  /** `WHERE a AND b …`, or '' when nothing was added. */
  toSql(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
