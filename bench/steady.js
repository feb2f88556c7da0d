'use strict';
/**
 * An open-loop load at a steady rate: request k is due at start + k ÷ rate, whatever the server
 * did with the ones before, and its latency counts from when it was due. It prints a result shaped
 * like bench/load.js's (the fields bench/run.js reads), so `bench/run.js --rate N` runs on it.
 *
 *   node bench/steady.js '{"url":"http://127.0.0.1:3000/api/ping","rate":3000,"duration":6,"connections":50}'
 *
 * Why not autocannon's own pacing (`overallRate`): it gives each connection a budget per second and
 * spends it back to back from the start of each second (autocannon's `reqsMadeThisSecond`), so a
 * "paced" run is a burst at full speed and then idle time, every second. Its p99 measures the
 * bursts (bare Koa's p99 was 6.9 ms at 5,000 req/s, three times its p99 at saturation), and a
 * stop timer racing the budget reset adds a whole extra burst to some runs. loadtest, the other
 * Node generator here, records whole milliseconds; wrk2, which paces this way in C, is not
 * packaged for this machine.
 *
 * How: a tick every millisecond (a timer, so the generator sleeps between ticks and leaves the CPU
 * to what shares it, PostgreSQL's backends on /api/info) sends the requests that fell due since
 * the last one: at 3,000 req/s, three per tick. One keep-alive connection per in-flight request,
 * up to `connections`. A request that goes out in the tick it fell due in is timed from when it
 * was sent: the tick's lateness is the generator's, not the server's. One that has to wait for a
 * free connection is timed from when it fell due, and that wait is part of its latency (the
 * correction for coordinated omission: a server that stalls is charged for every request it kept
 * waiting, not only for those already sent).
 *
 * Only what the benchmarks send: GET, responses with Content-Length or chunked bodies, no pipelining.
 */
const net = require('node:net');
const latency = require('./latency-us');

const opts = JSON.parse(process.argv[2]);
const url = new URL(opts.url);
const rate = Number(opts.rate);
const durationMs = Number(opts.duration) * 1000;
const maxConnections = Math.max(1, Math.min(Number(opts.connections ?? 50), Math.ceil(rate)));
if (!(rate > 0) || !(durationMs > 0)) throw new Error('steady.js needs rate > 0 and duration > 0');
const headerLines = Object.entries(opts.headers ?? {})
  .map(([k, v]) => `${k}: ${v}\r\n`)
  .join('');
const REQUEST = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n${headerLines}\r\n`);
const HEAD_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

const us = latency.histogram();
// How late each tick came for the oldest request it made due: the generator's own precision (about
// a millisecond by design; far more means the host stalled it).
const lagUs = latency.histogram();
const counts = { sent: 0, completed: 0, non2xx: 0, errors: 0 };

/** One keep-alive connection, one request at a time. */
class Connection {
  constructor() {
    this.due = 0;
    this.busy = false;
    this.chunks = [];
    this.connect();
  }
  connect() {
    this.socket = net.connect({ host: url.hostname, port: Number(url.port || 80) });
    this.socket.setNoDelay(true);
    this.socket.once('connect', () => onFree(this));
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', () => undefined); // 'close' follows
    this.socket.on('close', () => {
      if (closing) return;
      // An idle connection the server closed (keep-alive timeout) must leave the free list before it
      // reconnects and joins it again, or two requests would share one socket.
      const k = free.indexOf(this);
      if (k >= 0) free.splice(k, 1);
      if (this.busy) counts.errors++;
      this.busy = false;
      this.chunks = [];
      this.connect();
    });
  }
  send(due) {
    this.busy = true;
    this.due = due;
    counts.sent++;
    this.socket.write(REQUEST);
  }
  onData(chunk) {
    this.chunks.push(chunk);
    const buf = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
    const end = responseEnd(buf);
    if (end < 0) {
      this.chunks = [buf];
      return;
    }
    const now = performance.now();
    const status = Number(buf.toString('latin1', 9, 12));
    counts.completed++;
    if (status >= 200 && status <= 299) latency.recordMs(us, now - this.due);
    else counts.non2xx++;
    this.chunks = end < buf.length ? [buf.subarray(end)] : [];
    this.busy = false;
    onFree(this);
  }
}

/** Where the first complete response in `buf` ends, or -1 while it is still arriving. */
function responseEnd(buf) {
  const head = buf.indexOf(HEAD_END);
  if (head < 0) return -1;
  const headers = buf.toString('latin1', 0, head).toLowerCase();
  const m = /\r\ncontent-length:\s*(\d+)/.exec(headers);
  if (m) {
    const end = head + 4 + Number(m[1]);
    return buf.length >= end ? end : -1;
  }
  if (headers.includes('\r\ntransfer-encoding: chunked')) {
    const last = buf.indexOf(CHUNKED_END, head + 4);
    return last < 0 ? -1 : last + CHUNKED_END.length;
  }
  return head + 4; // no body (204, 304)
}

// Free connections, least recently used first: taking the oldest keeps every connection in use, so
// a server's keep-alive timeout does not close idle ones (and race a request sent as it does).
const free = [];
const due = []; // due times (ms) of requests waiting for a connection, oldest first
let dueHead = 0;
let scheduled = 0; // requests made due so far
let start = 0;
let closing = false;
const connections = [];

/** Sends what is due on free connections; requests from `fresh` on fell due this tick. */
function dispatch(fresh = due.length, now = 0) {
  while (dueHead < due.length && free.length > 0) {
    const i = dueHead++;
    free.shift().send(i >= fresh ? now : due[i]);
  }
  if (dueHead > 4096 && dueHead * 2 > due.length) {
    due.splice(0, dueHead);
    dueHead = 0;
  }
}

function onFree(conn) {
  free.push(conn);
  if (start > 0) dispatch();
  // The window starts once every connection is open, so that it measures the server and not the
  // handshakes.
  else if (free.length === maxConnections) {
    start = performance.now();
    setImmediate(tick);
  }
}

function tick() {
  const now = performance.now();
  const elapsed = now - start;
  // request k is due at start + k ÷ rate: by `elapsed`, floor(elapsed × rate) + 1 of them (k = 0 at once)
  const total = Math.min(Math.floor((elapsed * rate) / 1000) + 1, Math.ceil((durationMs * rate) / 1000));
  const fresh = due.length;
  if (scheduled < total) latency.recordMs(lagUs, now - (start + (scheduled * 1000) / rate));
  for (; scheduled < total; scheduled++) due.push(start + (scheduled * 1000) / rate);
  dispatch(fresh, now);
  if (elapsed < durationMs) setTimeout(tick, 1);
  else drain(now);
}

/** After the window: wait for the requests still due or in flight (up to 2 s), then report. */
function drain(windowEnd) {
  const waiting = () => dueHead < due.length || connections.some((c) => c.busy);
  const check = () => {
    if (waiting() && performance.now() - windowEnd < 2000) return setTimeout(check, 1);
    finish();
  };
  check();
}

function finish() {
  closing = true;
  const unanswered = due.length - dueHead + connections.filter((c) => c.busy).length;
  for (const c of connections) c.socket.destroy();
  const result = {
    generator: 'steady',
    rate,
    duration: durationMs / 1000,
    connections: connections.length,
    requests: { total: counts.completed, sent: counts.sent },
    errors: counts.errors,
    timeouts: unanswered,
    non2xx: counts.non2xx,
    latencyUs: latency.summary(us),
    generatorLagUs: latency.summary(lagUs),
  };
  process.stdout.write(JSON.stringify(result));
}

for (let i = 0; i < maxConnections; i++) connections.push(new Connection());
