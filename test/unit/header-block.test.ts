import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { headerBlock, type HeaderOp } from '../../src/platform/security/header-block';
import { endAsKoaOnUnhandledError, handlerServer, headerValues, raw, type HandlerServer } from '../helpers/raw-http';

const OPS: HeaderOp[] = [
  ['Content-Security-Policy', "default-src 'none'"],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
  ['X-Powered-By', undefined],
];

describe('header block (security headers written as one pre-validated block)', () => {
  let server: HandlerServer;
  const block = headerBlock(OPS);

  before(async () => {
    server = await handlerServer();
  });
  after(() => server.close());

  const get = (method = 'GET') => raw(server.url, method, '/');

  it('sends every header of the block exactly once, beside the response’s own, with the body intact', async () => {
    server.handler = (_req, res) => {
      block.apply(res);
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    };
    const r = await get();
    expect(r.status).to.equal(200);
    expect(r.body).to.equal('{"ok":true}');
    expect(headerValues(r.headers, 'content-security-policy')).to.deep.equal(["default-src 'none'"]);
    expect(headerValues(r.headers, 'x-frame-options')).to.deep.equal(['DENY']);
    expect(headerValues(r.headers, 'referrer-policy')).to.deep.equal(['no-referrer']);
    expect(headerValues(r.headers, 'content-type')).to.deep.equal(['application/json']);
  });

  it('is on responses without a body and on HEAD', async () => {
    server.handler = (_req, res) => {
      block.apply(res);
      res.statusCode = 204;
      res.end();
    };
    expect(headerValues((await get()).headers, 'x-frame-options')).to.deep.equal(['DENY']);
    expect(headerValues((await get('HEAD')).headers, 'x-frame-options')).to.deep.equal(['DENY']);
  });

  it('lets a header the response sets itself replace its entry (a route’s own CSP), whatever its case', async () => {
    server.handler = (_req, res) => {
      block.apply(res);
      res.setHeader('Content-Security-Policy', "default-src 'self'");
      res.end();
    };
    const r = await get();
    expect(headerValues(r.headers, 'content-security-policy')).to.deep.equal(["default-src 'self'"]);
    expect(headerValues(r.headers, 'x-frame-options')).to.deep.equal(['DENY']);
  });

  it('lets headers given to writeHead replace entries too (object, flat array, no header set before)', async () => {
    for (const given of [{ 'X-Frame-Options': 'SAMEORIGIN' }, ['X-Frame-Options', 'SAMEORIGIN']]) {
      server.handler = (_req, res) => {
        block.apply(res);
        res.writeHead(200, given as Record<string, string>);
        res.end();
      };
      const r = await get();
      expect(headerValues(r.headers, 'x-frame-options'), JSON.stringify(given)).to.deep.equal(['SAMEORIGIN']);
      expect(headerValues(r.headers, 'referrer-policy')).to.deep.equal(['no-referrer']);
    }
  });

  it('keeps its headers when every header of the response is removed (Koa does so for an unhandled error)', async () => {
    server.handler = (_req, res) => {
      block.apply(res);
      res.setHeader('x-request-id', 'abc');
      endAsKoaOnUnhandledError(res);
    };
    const r = await get();
    expect(headerValues(r.headers, 'x-frame-options')).to.deep.equal(['DENY']);
    expect(headerValues(r.headers, 'x-request-id')).to.deep.equal([]);
  });

  it('removes the names it is told to remove', async () => {
    server.handler = (_req, res) => {
      res.setHeader('X-Powered-By', 'Express');
      block.apply(res);
      res.end();
    };
    expect(headerValues((await get()).headers, 'x-powered-by')).to.deep.equal([]);
  });

  it('sets the headers one by one on a response that is not Node’s HTTP/1 response', () => {
    const set: Array<[string, string]> = [];
    const removed: string[] = [];
    const fake = { setHeader: (n: string, v: string) => set.push([n, v]), removeHeader: (n: string) => removed.push(n) } as unknown as ServerResponse;
    block.apply(fake);
    expect(set).to.deep.equal([
      ['content-security-policy', "default-src 'none'"],
      ['x-frame-options', 'DENY'],
      ['referrer-policy', 'no-referrer'],
    ]);
    expect(removed).to.deep.equal(['X-Powered-By']);
  });

  it('refuses at start-up a value that could not be sent', () => {
    expect(() => headerBlock([['x-evil', 'a\r\nset-cookie: x=1']])).to.throw();
    expect(() => headerBlock([['bad name', 'v']])).to.throw();
  });
});
