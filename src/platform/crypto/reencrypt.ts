import type { Queryable } from '../db/pool';
import type { ServiceKeys } from './keys';

/**
 * An encrypted column set, declared by the module that owns the table, with the AAD its values
 * were sealed with. A module adding an encrypted column lists it in its declaration, or a key
 * rotation would leave it readable only with the old key.
 */
export interface EncryptedTable {
  table: string;
  columns: ReadonlyArray<{ name: string; aad(row: Record<string, string>): string; hashColumn?: string }>;
  /** Columns the AAD needs besides id. */
  context: readonly string[];
  /** Work of the owning module once every table is rewritten (sealing values older rows hold in clear). */
  afterRewrite?(db: TransactionRunner, keys: ServiceKeys, report: ReencryptReport, batchSize: number): Promise<void>;
}

export interface TransactionRunner {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface ReencryptReport {
  keyId: string;
  rewritten: Record<string, number>;
  /** Values no configured key could decrypt (a key was dropped too early). */
  unreadable: Record<string, number>;
}

/**
 * Rewrites every value sealed under an older key with the current one, and recomputes phone
 * hashes under the current hash key. Batches of `batchSize` rows, each in its own transaction with
 * the rows locked, so the service can keep running. Idempotent: a second run rewrites nothing.
 */
export async function reencryptAll(db: TransactionRunner, keys: ServiceKeys, tables: readonly EncryptedTable[], batchSize = 500): Promise<ReencryptReport> {
  const report: ReencryptReport = { keyId: keys.keyring.currentKeyId, rewritten: {}, unreadable: {} };
  for (const t of tables) {
    const cols = t.columns.flatMap((c) => [c.name, ...(c.hashColumn ? [`encode(${c.hashColumn}, 'hex') AS ${c.hashColumn}`] : [])]);
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const last = await db.transaction(async (tx) => {
        const { rows } = await tx.query<Record<string, string>>(
          `SELECT id, ${[...t.context, ...cols].join(', ')} FROM ${t.table} WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
          [after, batchSize],
        );
        for (const row of rows) {
          const sets: string[] = [];
          const values: unknown[] = [row.id];
          for (const c of t.columns) {
            const token = row[c.name];
            if (!token) continue;
            const key = `${t.table}.${c.name}`;
            let plain: string;
            try {
              plain = keys.keyring.decrypt(token, c.aad(row));
            } catch {
              report.unreadable[key] = (report.unreadable[key] ?? 0) + 1;
              continue;
            }
            const hash = c.hashColumn ? keys.phoneHash.hash(plain) : undefined;
            const staleHash = hash !== undefined && row[c.hashColumn!] !== hash.toString('hex');
            if (!keys.keyring.needsRotation(token) && !staleHash) continue;
            values.push(keys.keyring.encrypt(plain, c.aad(row)));
            sets.push(`${c.name} = $${values.length}`);
            if (hash) {
              values.push(hash);
              sets.push(`${c.hashColumn} = $${values.length}`);
            }
            report.rewritten[key] = (report.rewritten[key] ?? 0) + 1;
          }
          if (sets.length > 0) await tx.query(`UPDATE ${t.table} SET ${sets.join(', ')} WHERE id = $1`, values);
        }
        return rows.at(-1)?.id;
      });
      if (!last) break;
      after = last;
    }
  }
  for (const t of tables) await t.afterRewrite?.(db, keys, report, batchSize);
  return report;
}
