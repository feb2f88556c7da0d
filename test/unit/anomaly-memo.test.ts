import { expect } from 'chai';
import { inspectRequestLine } from '../../src/platform/security/anomaly/inspect';

const line = (path: string, ua = 'caly-test/1') => ({ path, querystring: '', headers: { 'user-agent': ua } });
const opts = { userAgentOptional: () => false };

/**
 * The request-line scan remembers its answers for repeated paths and header values (they repeat
 * from request to request). A remembered answer must be the answer: the same findings every time,
 * whatever else was asked in between and however often the memo was emptied.
 */
describe('anomaly scan memo (paths and headers)', () => {
  const attackPath = "/api/calls/1'%20OR%201=1--";
  const attackUa = '() { :; }; /bin/bash -c "cat /etc/passwd"';

  it('an attack path and an attack User-Agent are reported on every request, not only the first', () => {
    const first = inspectRequestLine(line(attackPath, attackUa), opts);
    expect(first.map((f) => f.location)).to.include.members(['path', 'header.user-agent']);
    for (let i = 0; i < 5; i++) expect(inspectRequestLine(line(attackPath, attackUa), opts)).to.deep.equal(first);
  });

  it('a clean path stays clean, and an attack is still found after thousands of other paths emptied the memo', () => {
    expect(inspectRequestLine(line('/api/ping'), opts)).to.deep.equal([]);
    const expected = inspectRequestLine(line(attackPath), opts);
    expect(expected.length).to.be.greaterThan(0);
    for (let i = 0; i < 3000; i++) inspectRequestLine(line(`/api/calls/${i}`), opts);
    expect(inspectRequestLine(line(attackPath), opts)).to.deep.equal(expected);
    expect(inspectRequestLine(line('/api/ping'), opts)).to.deep.equal([]);
  });
});
