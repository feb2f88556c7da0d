import { expect } from 'chai';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { directForwardedFacts } from '../../src/platform/http/forwarded';

const FORWARDED_FOR = [
  undefined,
  '',
  '203.0.113.7',
  ' 203.0.113.7 ',
  '198.51.100.1, 203.0.113.7',
  '198.51.100.1,203.0.113.7 ,  192.0.2.9',
  'a,',
  ',b',
  ',',
  ' , ',
];
const FORWARDED_PROTO = [undefined, '', 'https', 'HTTPS', ' Https , http', 'http,https', ',https', 'wss'];
const SETTINGS: Array<{ proxy: boolean; maxIpsCount: number; proxyIpHeader?: string }> = [
  { proxy: true, maxIpsCount: 1 }, // as app.ts builds it
  { proxy: true, maxIpsCount: 0 },
  { proxy: true, maxIpsCount: 2 },
  { proxy: false, maxIpsCount: 1 },
  { proxy: true, maxIpsCount: 1, proxyIpHeader: 'X-Real-IP' },
];

function requestOf(app: Koa, headers: Record<string, string | undefined>, encrypted: boolean) {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: '10.0.0.5' });
  if (encrypted) Object.assign(socket, { encrypted: true });
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/api/ping';
  req.headers = Object.fromEntries(Object.entries({ host: 'api.example', ...headers }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return app.createContext(req, new ServerResponse(req)).request;
}

describe('forwarded facts (ctx.ip and ctx.protocol without splitting the headers)', () => {
  it('answers ctx.ip and ctx.protocol as Koa does, for every header value and proxy setting', () => {
    let compared = 0;
    for (const settings of SETTINGS) {
      const koa = new Koa(settings);
      const ours = new Koa(settings);
      directForwardedFacts(ours.request);
      for (const xff of FORWARDED_FOR) {
        for (const proto of FORWARDED_PROTO) {
          for (const encrypted of [false, true]) {
            const headers = { 'x-forwarded-for': xff, 'x-real-ip': xff, 'x-forwarded-proto': proto };
            const theirs = requestOf(koa, headers, encrypted);
            const mine = requestOf(ours, headers, encrypted);
            const what = `${JSON.stringify(settings)} xff=${JSON.stringify(xff)} proto=${JSON.stringify(proto)} encrypted=${encrypted}`;
            expect(mine.ip, what).to.equal(theirs.ip);
            expect(mine.protocol, what).to.equal(theirs.protocol);
            expect(mine.secure, what).to.equal(theirs.secure);
            compared++;
          }
        }
      }
    }
    expect(compared).to.equal(SETTINGS.length * FORWARDED_FOR.length * FORWARDED_PROTO.length * 2);
  });

  it('remembers ctx.ip per request, lets it be set, and leaves Koa’s own request untouched', () => {
    const app = new Koa({ proxy: true, maxIpsCount: 1 });
    directForwardedFacts(app.request);
    const request = requestOf(app, { 'x-forwarded-for': '203.0.113.7' }, false);
    expect(request.ip).to.equal('203.0.113.7');
    request.req.headers['x-forwarded-for'] = '198.51.100.1';
    expect(request.ip).to.equal('203.0.113.7');
    request.ip = '192.0.2.1';
    expect(request.ip).to.equal('192.0.2.1');
    expect(Object.getOwnPropertyDescriptor(new Koa().request, 'ip')).to.equal(undefined);
  });
});
