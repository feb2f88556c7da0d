import { expect } from 'chai';
import { decimal, headLine, sendHeader, sentHeader } from '../../src/platform/response-head/lines';
import { headerBlock } from '../../src/platform/security/header-block';
import { endAsKoaOnUnhandledError, handlerServer, headerValues, raw, type HandlerServer } from '../helpers/raw-http';

const REQUEST_ID = headLine('X-Request-Id');
const REMAINING = headLine('x-ratelimit-remaining');

describe('head lines (headers the service adds per response, written straight into the head)', () => {
  let server: HandlerServer;

  before(async () => {
    server = await handlerServer();
  });
  after(() => server.close());

  const get = (method = 'GET') => raw(server.url, method, '/');

  it('sends the line once, beside the response’s own headers; sentHeader reads it back, getHeader does not see it', async () => {
    let seen: Array<string | undefined> = [];
    server.handler = (_req, res) => {
      sendHeader(res, REQUEST_ID, 'abc-123');
      res.setHeader('content-type', 'text/plain');
      seen = [sentHeader(res, 'x-request-id'), sentHeader(res, 'X-Request-Id'), res.getHeader('x-request-id') as string | undefined];
      res.end('ok');
    };
    const r = await get();
    expect(r.status).to.equal(200);
    expect(r.body).to.equal('ok');
    expect(headerValues(r.headers, 'x-request-id')).to.deep.equal(['abc-123']);
    expect(headerValues(r.headers, 'content-type')).to.deep.equal(['text/plain']);
    expect(seen).to.deep.equal(['abc-123', 'abc-123', undefined]);
  });

  it('keeps the last value sent for a name (one line), as setHeader does', async () => {
    server.handler = (_req, res) => {
      sendHeader(res, REMAINING, '10');
      sendHeader(res, REMAINING, '9');
      res.end();
    };
    expect(headerValues((await get()).headers, 'x-ratelimit-remaining')).to.deep.equal(['9']);
  });

  it('gives way to the same header set by the response itself, in any case (a 429’s own rate-limit headers)', async () => {
    server.handler = (_req, res) => {
      sendHeader(res, REMAINING, '9');
      res.setHeader('X-RateLimit-Remaining', '0');
      res.statusCode = 429;
      res.end();
    };
    const r = await get();
    expect(r.status).to.equal(429);
    expect(headerValues(r.headers, 'x-ratelimit-remaining')).to.deep.equal(['0']);
    server.handler = (_req, res) => {
      sendHeader(res, REMAINING, '9');
      res.writeHead(429, { 'X-RateLimit-Remaining': '0' });
      res.end();
    };
    expect(headerValues((await get()).headers, 'x-ratelimit-remaining')).to.deep.equal(['0']);
  });

  it('refuses a value that would split the response, as setHeader does; a value with a space goes through setHeader', async () => {
    server.handler = (_req, res) => {
      sendHeader(res, REQUEST_ID, 'abc\r\nset-cookie: x=1');
      res.end('not reached');
    };
    const refused = await get();
    expect(refused.status).to.equal(599);
    expect(refused.body).to.equal('ERR_INVALID_CHAR');
    expect(headerValues(refused.headers, 'set-cookie')).to.deep.equal([]);
    server.handler = (_req, res) => {
      sendHeader(res, REQUEST_ID, 'a b');
      res.end(String(res.getHeader('x-request-id')));
    };
    const spaced = await get();
    expect(headerValues(spaced.headers, 'x-request-id')).to.deep.equal(['a b']);
    expect(spaced.body).to.equal('a b');
  });

  it('stays on the response when every visible header is removed (Koa’s last-resort error handler does that)', async () => {
    server.handler = (_req, res) => {
      sendHeader(res, REQUEST_ID, 'abc-123');
      res.setHeader('x-other', '1');
      endAsKoaOnUnhandledError(res);
    };
    const r = await get();
    expect(headerValues(r.headers, 'x-request-id')).to.deep.equal(['abc-123']);
    expect(headerValues(r.headers, 'x-other')).to.deep.equal([]);
  });

  it('goes out beside a fixed block, whichever is added first, each line once; on HEAD and 204 too', async () => {
    const block = headerBlock([['x-frame-options', 'DENY']]);
    for (const method of ['GET', 'HEAD']) {
      for (const blockFirst of [true, false]) {
        server.handler = (_req, res) => {
          if (blockFirst) block.apply(res);
          sendHeader(res, REQUEST_ID, 'abc-123');
          if (!blockFirst) block.apply(res);
          res.statusCode = 204;
          res.end();
        };
        const r = await get(method);
        expect(headerValues(r.headers, 'x-frame-options'), `${method}, block first: ${blockFirst}`).to.deep.equal(['DENY']);
        expect(headerValues(r.headers, 'x-request-id'), `${method}, block first: ${blockFirst}`).to.deep.equal(['abc-123']);
      }
    }
  });

  it('decimal() writes a number as String() does (the rate-limit headers use it)', () => {
    for (const n of [0, 1, 7, 42, 999, 1000, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 1_000_000_000, 1_767_139_200, Number.MAX_SAFE_INTEGER, -1, 1.5, NaN, Infinity]) {
      expect(decimal(n), String(n)).to.equal(String(n));
    }
  });
});
