/** One schema change, applied once in version order; never edited after it ships (its checksum is kept). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
