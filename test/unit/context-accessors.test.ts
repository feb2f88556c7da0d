import { expect } from 'chai';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { DIRECT_ACCESSORS, directContextAccessors } from '../../src/platform/http/context-accessors';

/** A context of `app` for a request with these headers (no network: a socket that is never connected). */
function contextOf(app: Koa, url = '/api/x?a=1&b=2', headers: Record<string, string> = {}) {
  const req = new IncomingMessage(new Socket());
  req.method = 'POST';
  req.url = url;
  req.headers = { host: 'api.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7', 'content-type': 'application/json', ...headers };
  const res = new ServerResponse(req);
  return app.createContext(req, res);
}

describe('direct context accessors (Koa delegates with literal names)', () => {
  const koa = () => new Koa({ proxy: true, maxIpsCount: 1 });
  const direct = () => {
    const app = koa();
    directContextAccessors(app.context);
    return app;
  };

  it('redefines each listed name on the app’s context only, not on Koa’s', () => {
    const app = direct();
    const plain = koa();
    for (const name of [...DIRECT_ACCESSORS.request, ...DIRECT_ACCESSORS.response]) {
      expect(Object.getOwnPropertyDescriptor(app.context, name), name).to.not.equal(undefined);
      expect(Object.getOwnPropertyDescriptor(plain.context, name), name).to.equal(undefined);
    }
  });

  it('reads every request accessor as Koa does', () => {
    const a = contextOf(koa());
    const b = contextOf(direct());
    for (const name of DIRECT_ACCESSORS.request) {
      if (name === 'get') continue;
      expect((b as unknown as Record<string, unknown>)[name], name).to.deep.equal((a as unknown as Record<string, unknown>)[name]);
    }
    expect(b.get('Content-Type')).to.equal('application/json');
    expect(b.get('referrer')).to.equal(a.get('referrer'));
    expect([b.ip, b.protocol, b.path, b.querystring]).to.deep.equal(['203.0.113.7', 'https', '/api/x', 'a=1&b=2']);
  });

  it('writes request accessors through to the request', () => {
    const ctx = contextOf(direct());
    ctx.path = '/other';
    ctx.querystring = 'c=3';
    ctx.method = 'GET';
    expect([ctx.request.path, ctx.request.querystring, ctx.req.method, ctx.url]).to.deep.equal(['/other', 'c=3', 'GET', '/other?c=3']);
    ctx.url = '/u?d=4';
    expect(ctx.query).to.deep.equal({ d: '4' });
  });

  it('writes and reads response accessors and methods as Koa does', () => {
    for (const [label, app] of [
      ['koa', koa()],
      ['direct', direct()],
    ] as const) {
      const ctx = contextOf(app);
      ctx.status = 201;
      ctx.body = { ok: true };
      ctx.set('x-one', '1');
      ctx.set({ 'x-two': '2', 'x-three': '3' });
      ctx.vary('Origin');
      ctx.set('x-gone', 'g');
      ctx.remove('x-gone');
      ctx.type = 'text';
      ctx.length = 5;
      expect([ctx.status, ctx.response.status, ctx.type, ctx.length], label).to.deep.equal([201, 201, 'text/plain', 5]);
      expect(ctx.body, label).to.deep.equal({ ok: true });
      expect(ctx.res.getHeaders(), label).to.deep.include({ 'x-one': '1', 'x-two': '2', 'x-three': '3', vary: 'Origin' });
      expect(ctx.res.hasHeader('x-gone'), label).to.equal(false);
    }
  });
});
