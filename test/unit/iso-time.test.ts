import { expect } from 'chai';
import { isoOf } from '../../src/platform/logging/logger';

describe('log line time (isoOf)', () => {
  it('is Date#toISOString, across milliseconds, second, day and year boundaries and in any order', () => {
    const starts = [Date.UTC(2026, 11, 6, 3, 59, 59, 990), Date.UTC(2026, 11, 31, 23, 59, 59, 995), Date.UTC(1999, 0, 1), 0, Date.now()];
    const times: number[] = [];
    for (const t0 of starts) for (let i = 0; i < 25; i++) times.push(t0 + i);
    times.push(Date.UTC(2030, 5, 1, 12, 0, 0, 7), Date.UTC(2030, 5, 1, 12, 0, 0, 70), starts[0]!, Date.UTC(2030, 5, 1, 12, 0, 0, 700));
    for (const ms of times) expect(isoOf(ms), String(ms)).to.equal(new Date(ms).toISOString());
  });
});
