import { expect } from 'chai';
import { scrubText } from '../../src/platform/logging/redact';

/**
 * scrubText remembers recent answers (log strings repeat from line to line). A remembered answer
 * must be the answer: every line is scrubbed, whatever came in between, however often the memo
 * was emptied, and long strings (never remembered) the same way.
 */
describe('log scrubbing memo (logging/redact.ts)', () => {
  const phone = 'caller +91 98127 34650 asked for a refund';
  const credentialPath = '/Webhooks//exotel/s3cr3t-credential/status';

  it('scrubs the same string the same way every time', () => {
    const first = scrubText(phone);
    expect(first).to.include('[phone ***4650]');
    expect(first).to.not.include('98127');
    for (let i = 0; i < 5; i++) expect(scrubText(phone)).to.equal(first);
    expect(scrubText(credentialPath)).to.not.include('s3cr3t');
    expect(scrubText(credentialPath)).to.not.include('s3cr3t');
  });

  it('still scrubs after thousands of other strings emptied the memo, and past the memo length', () => {
    for (let i = 0; i < 5000; i++) scrubText(`/api/calls/${i}`);
    expect(scrubText(phone)).to.include('[phone ***4650]');
    expect(scrubText(phone)).to.not.include('98127');
    const long = `${'x'.repeat(300)} ${phone}`;
    expect(scrubText(long)).to.include('[phone ***4650]');
    expect(scrubText(long)).to.include('[phone ***4650]');
    expect(scrubText('/api/ping')).to.equal('/api/ping');
  });
});
