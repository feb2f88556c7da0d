/**
 * Names for the service's parameterised statements, so that PostgreSQL parses and plans each of
 * them once per connection rather than on every execution.
 *
 * Why: pg sends a statement without a name as Parse + Bind + Execute, and the server parses,
 * analyses and plans it again each time. For a one-row lookup that was close to half of what the
 * query cost PostgreSQL. With a name, pg sends Parse once per connection and then only Bind +
 * Execute (bench/README.md, "Eighth round": GET /api/info cost the database 85 → 48 µs of CPU, and
 * on the shared 2-core bench host it served more requests per second).
 *
 * Used by db.query and by transactions alike. Bounds, and what stays unnamed:
 * - A statement without values goes out unnamed: it may hold several statements (migrations),
 *   which the extended protocol refuses.
 * - At most `limit` distinct texts get a name, first come first served. SQL built at run time (a
 *   list of placeholders of varying length) would otherwise add prepared statements to every
 *   connection without end; past the limit such texts go out unnamed, as before. Each one holds
 *   ~20 KB in every connection's server process (its parse tree and plan).
 * - `limit` 0 turns naming off (DB_PREPARED_STATEMENTS=0): a pooler in transaction mode before
 *   PgBouncer 1.21 hands each statement to any server connection, where the name is unknown.
 *
 * pg keeps which names a connection has parsed; a name here is never given to two texts, so the
 * same name never stands for two texts on one connection.
 */
import type pg from 'pg';
import { NamedQuery, type RowShape } from './row-shapes';

export interface StatementNames {
  /** The name `text` runs under, or undefined to send it unnamed. */
  nameOf(text: string, values: readonly unknown[] | undefined): string | undefined;
  /**
   * `name` went stale (isStalePreparedStatement): `text` gets a new name, so that whichever
   * connection runs it next prepares it afresh. Renaming rather than only dropping the connection
   * where it failed: every other connection of the pool holds the same stale statement, and a retry
   * would likely land on one of them. The old statement stays on those connections, unused, until
   * they close. A name some other query already renewed is left as it is.
   */
  renew(text: string, name: string): void;
  /** What pg built from each named statement's row description (row-shapes.ts), by name. */
  readonly rowShapes: Map<string, RowShape>;
}

export function statementNames(limit: number): StatementNames {
  const names = new Map<string, string>();
  const rowShapes = new Map<string, RowShape>();
  let made = 0;
  return {
    rowShapes,
    nameOf(text, values) {
      if (values === undefined || limit === 0) return undefined;
      let name = names.get(text);
      if (name === undefined) {
        if (names.size >= limit) return undefined;
        name = `caly_s${++made}`;
        names.set(text, name);
      }
      return name;
    },
    renew(text, name) {
      if (names.get(text) !== name) return;
      names.set(text, `caly_s${++made}`);
      rowShapes.delete(name);
    },
  };
}

/**
 * Sends `text` on `client`: prepared under the name `names` give it, or unnamed when they give none.
 * The one place a statement goes out prepared, so a stale prepared form is handled once, for
 * db.query and transactions alike: its text is renamed (so whichever connection runs it next
 * prepares it afresh) and `discard` drops this connection (its other prepared statements may be
 * stale too), before `callback` hears the error with `stale` set. Whether to run it again is the
 * caller's: one more attempt for a single statement, the whole transaction for a transaction.
 */
export function sendStatement(
  client: pg.ClientBase,
  names: StatementNames,
  text: string,
  values: readonly unknown[] | undefined,
  discard: (reason: Error) => void,
  callback: (err: Error | null, res: pg.QueryResult | undefined, stale: boolean) => void,
): void {
  const name = names.nameOf(text, values);
  // undefined values: pg sends the text alone
  if (name === undefined) return void client.query(text, values as unknown[], (err, res) => callback(err, res, false));
  client.query(
    new NamedQuery(
      name,
      text,
      values ?? [],
      (err, res) => {
        const stale = err !== null && isStalePreparedStatement(err);
        if (stale) {
          names.renew(text, name);
          discard(err);
        }
        callback(err, res, stale);
      },
      names.rowShapes,
    ),
  );
}

/**
 * Whether a named statement failed because its prepared form no longer fits the server: 0A000
 * "cached plan must not change result type" (a table it reads changed columns since it was
 * prepared: a migration run by another replica) or 26000 "prepared statement does not exist"
 * (something ran DEALLOCATE or DISCARD ALL on the session). Both are raised before the statement
 * runs, so running it again on a fresh connection is safe. Only asked about statements this
 * process named: 0A000 also reports features PostgreSQL does not support, which a retry would not
 * change, and then the second attempt fails the same way and that error is the answer.
 */
function isStalePreparedStatement(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return code === '0A000' || code === '26000';
}
