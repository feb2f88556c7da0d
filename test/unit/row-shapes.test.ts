import { expect } from 'chai';
import type pg from 'pg';
import { NamedQuery, type RowShape } from '../../src/platform/db/row-shapes';

/**
 * What pg's client does with a statement's answer, as the client calls it: the row description,
 * then each data row, the command's completion, and ready-for-query, where the query answers its
 * callback (pg/lib/client.js, pg/lib/query.js). No database: the point is
 * which description the rows are parsed by.
 */
function answer(query: NamedQuery, fields: Array<{ name: string; dataTypeID: number }>, rows: string[][]): void {
  const q = query as unknown as {
    handleRowDescription(m: unknown): void;
    handleDataRow(m: unknown): void;
    handleCommandComplete(m: unknown, c: unknown): void;
    handleReadyForQuery(c: unknown): void;
  };
  q.handleRowDescription({ fields: fields.map((f) => ({ ...f, tableID: 0, columnID: 0, dataTypeSize: -1, dataTypeModifier: -1, format: 'text' })) });
  for (const r of rows) q.handleDataRow({ fields: r });
  q.handleCommandComplete({ text: `SELECT ${rows.length}` }, {});
  q.handleReadyForQuery({});
}

describe('NamedQuery (db/row-shapes.ts): row parsers kept per statement name', () => {
  const INT4 = 23;
  const TEXT = 25;

  function run(shapes: Map<string, RowShape>, name: string, fields: Array<{ name: string; dataTypeID: number }>, rows: string[][]): pg.QueryResult {
    let result: pg.QueryResult | undefined;
    const q = new NamedQuery(
      name,
      'SELECT …',
      [],
      (err, res) => {
        if (err) throw err;
        result = res;
      },
      shapes,
    );
    answer(q, fields, rows);
    expect(result, 'the callback ran').to.not.equal(undefined);
    return result!;
  }

  it('parses by the description each execution gets: a different one under the same name is built afresh', () => {
    const shapes = new Map<string, RowShape>();
    expect(run(shapes, 's1', [{ name: 'v', dataTypeID: INT4 }], [['5']]).rows).to.deep.equal([{ v: 5 }]);
    expect(shapes.get('s1')?.fields.map((f) => f.dataTypeID)).to.deep.equal([INT4]);
    expect(run(shapes, 's1', [{ name: 'v', dataTypeID: INT4 }], [['6'], ['7']]).rows).to.deep.equal([{ v: 6 }, { v: 7 }]);
    // another type, another name, another column count: never the kept parsers
    expect(run(shapes, 's1', [{ name: 'v', dataTypeID: TEXT }], [['5']]).rows).to.deep.equal([{ v: '5' }]);
    expect(run(shapes, 's1', [{ name: 'w', dataTypeID: TEXT }], [['5']]).rows).to.deep.equal([{ w: '5' }]);
    expect(
      run(
        shapes,
        's1',
        [
          { name: 'w', dataTypeID: TEXT },
          { name: 'x', dataTypeID: INT4 },
        ],
        [['a', '1']],
      ).rows,
    ).to.deep.equal([{ w: 'a', x: 1 }]);
    expect(run(shapes, 's2', [{ name: 'v', dataTypeID: INT4 }], [['8']]).rows).to.deep.equal([{ v: 8 }]);
  });

  it('a kept description is reused: the same parsers, a fresh row object each time', () => {
    const shapes = new Map<string, RowShape>();
    const a = run(shapes, 's1', [{ name: 'v', dataTypeID: INT4 }], [['1']]) as pg.QueryResult & { _parsers: unknown };
    const b = run(shapes, 's1', [{ name: 'v', dataTypeID: INT4 }], [['2']]) as pg.QueryResult & { _parsers: unknown };
    expect(b._parsers).to.equal(a._parsers);
    expect(b.rows).to.deep.equal([{ v: 2 }]);
    expect(b.rows[0]).to.not.equal(a.rows[0]);
    expect(a.rows).to.deep.equal([{ v: 1 }], 'an earlier result is left as it was');
  });
});
