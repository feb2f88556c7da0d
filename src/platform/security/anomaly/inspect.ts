import type { IncomingHttpHeaders } from 'node:http';
import { memoizeString } from '../../memo';
import { decodeForScan } from './decode';
import type { Finding } from './kinds';
import { scanValue, type PayloadHit } from './scan-value';

/**
 * Headers whose values are scanned for payloads. Chosen because applications and log viewers
 * commonly echo or store them (and injection through them is a classic): user-agent, referer,
 * x-forwarded-for. Not scanned: cookie and authorization (opaque secrets, must not be inspected or
 * logged), and headers this service never interprets.
 */
export const SCANNED_HEADERS = ['user-agent', 'referer', 'x-forwarded-for'] as const;

/** Upper bound on findings per request, so one crafted request cannot produce unbounded work or logs. */
export const MAX_FINDINGS = 16;

export interface RequestLine {
  /** Raw (still percent-encoded) path. */
  path: string;
  /** Raw query string, without `?`. */
  querystring: string;
  headers: IncomingHttpHeaders;
}

export interface RequestLineOptions {
  /**
   * Whether a missing User-Agent is expected here (a server-to-server route such as a webhook, or
   * a probe under /health/). Called only when the header is missing.
   */
  userAgentOptional(): boolean;
}

/**
 * Everything knowable before the body is read: the path, each query key and value, the scanned
 * headers, a missing User-Agent and the header tricks that re-route requests behind proxies.
 */
export function inspectRequestLine(req: RequestLine, opts: RequestLineOptions): Finding[] {
  const findings: Finding[] = [];
  for (const hit of scanPath(req.path)) findings.push({ kind: hit.kind, rule: hit.rule, location: 'path' });
  if (req.querystring) inspectQuery(req.querystring, findings);

  const h = req.headers;
  for (const name of SCANNED_HEADERS) {
    const v = h[name];
    if (typeof v !== 'string' || v === '') continue;
    for (const hit of headerScans[name](v)) if (findings.length < MAX_FINDINGS) findings.push({ kind: hit.kind, rule: hit.rule, location: `header.${name}` });
  }

  const ua = h['user-agent'];
  if ((ua === undefined || ua.trim() === '') && !opts.userAgentOptional()) {
    findings.push({ kind: 'missing_user_agent', rule: 'ua.missing', location: 'header.user-agent' });
  }
  if (h['x-original-url'] !== undefined) findings.push({ kind: 'suspicious_headers', rule: 'hdr.x_original_url', location: 'header.x-original-url' });
  if (h['x-rewrite-url'] !== undefined) findings.push({ kind: 'suspicious_headers', rule: 'hdr.x_rewrite_url', location: 'header.x-rewrite-url' });
  const fwdHost = h['x-forwarded-host'];
  if (fwdHost !== undefined && !sameHost(fwdHost, h.host)) {
    findings.push({ kind: 'suspicious_headers', rule: 'hdr.forwarded_host_mismatch', location: 'header.x-forwarded-host' });
  }
  return findings.length > MAX_FINDINGS ? findings.slice(0, MAX_FINDINGS) : findings;
}

/**
 * Header values repeat from request to request (a service sees a few hundred user agents, and the
 * same Referer pages), and so do paths (every client polls the same few): the scan is a pure
 * function of the value, so recent answers are remembered, one memo per header and one for the
 * path (memo/index.ts). A path keeps at most MAX_FINDINGS hits, as many as a request may report.
 */
const SCAN_MEMO = { entries: 1024, maxChars: 512 };
const scanPlain = (value: string) => scanValue(decodeForScan(value, false));
const headerScans: Record<(typeof SCANNED_HEADERS)[number], (value: string) => readonly PayloadHit[]> = {
  'user-agent': memoizeString(scanPlain, SCAN_MEMO),
  // A Referer is a URL whose query may use `+` for spaces; elsewhere `+` is literal.
  referer: memoizeString((value) => scanValue(decodeForScan(value, true)), SCAN_MEMO),
  'x-forwarded-for': memoizeString(scanPlain, SCAN_MEMO),
};
const scanPath = memoizeString((rawPath): readonly PayloadHit[] => {
  const decoded = decodeForScan(rawPath, false);
  return decoded === '' ? NO_HITS : scanValue(decoded).slice(0, MAX_FINDINGS);
}, SCAN_MEMO);

function inspectQuery(qs: string, findings: Finding[]): void {
  let start = 0;
  while (start <= qs.length && findings.length < MAX_FINDINGS) {
    let end = qs.indexOf('&', start);
    if (end === -1) end = qs.length;
    if (end > start) {
      const eq = qs.indexOf('=', start);
      const hasValue = eq !== -1 && eq < end;
      const rawKey = qs.slice(start, hasValue ? eq : end);
      const key = decodeForScan(rawKey, true);
      const name = `query.${safeName(key)}`;
      scanInto(findings, key, 'query.$key');
      if (hasValue) scanInto(findings, decodeForScan(qs.slice(eq + 1, end), true), name);
    }
    start = end + 1;
  }
}

/** The X-Forwarded-Host a client or proxy claims must name the same host the request was sent to. */
function sameHost(forwarded: string | string[], host: string | undefined): boolean {
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase() ?? '';
  return host !== undefined && first === host.trim().toLowerCase();
}

export interface BodyScanOptions {
  /** Total characters of keys and string values scanned (ANOMALY_BODY_SCAN_BYTES). */
  budget: number;
  /** Deepest nesting scanned. */
  maxDepth: number;
}

export const BODY_MAX_DEPTH = 12;

/**
 * String values (and keys) of a parsed JSON or form body, depth-first, until the budget or the
 * depth bound is reached. Form values arrive already percent-decoded once by the body parser; the
 * decoder then handles any nested encoding. Returns whether the whole body was covered.
 */
export function inspectBody(body: unknown, opts: BodyScanOptions): { findings: Finding[]; complete: boolean } {
  const findings: Finding[] = [];
  let budget = opts.budget;
  let complete = true;

  // A location string is built only for a finding, or when descending into a nested object: most
  // string values are clean, and building `body.a.b` for each would cost more than scanning it.
  // Arrays of records repeat the same keys: a key found clean once in this body is clean again
  // (the scan is a pure function of the string). Its characters still count against the budget.
  const cleanKeys = new Set<string>();
  const scanString = (value: string, parent: string, step: Step, key: string): void => {
    const s = value.length > budget ? value.slice(0, budget) : value;
    if (s.length < value.length) complete = false;
    budget -= s.length;
    if (step === 'key' && cleanKeys.has(s)) return;
    const hits = s === '' ? NO_HITS : scanValue(decodeForScan(s, false));
    if (step === 'key' && hits.length === 0) cleanKeys.add(s);
    for (const hit of hits) if (findings.length < MAX_FINDINGS) findings.push({ kind: hit.kind, rule: hit.rule, location: locate(parent, step, key) });
  };

  const visit = (value: unknown, parent: string, step: Step, key: string, depth: number): void => {
    if (budget <= 0 || findings.length >= MAX_FINDINGS) {
      complete = false;
      return;
    }
    if (typeof value === 'string') return scanString(value, parent, step, key);
    if (value === null || typeof value !== 'object') return;
    if (depth >= opts.maxDepth) {
      complete = false;
      return;
    }
    const here = locate(parent, step, key);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        budget -= 1; // even an array of numbers costs something to walk
        visit(value[i], here, 'item', '', depth + 1);
        if (budget <= 0) break;
      }
      return;
    }
    for (const k of Object.keys(value)) {
      budget -= 1;
      scanString(k, here, 'key', k);
      if (budget < 0) break;
      visit((value as Record<string, unknown>)[k], here, 'prop', k, depth + 1);
    }
  };
  visit(body, '', 'root', '', 0);
  return { findings, complete: complete && budget >= 0 };
}

type Step = 'root' | 'prop' | 'item' | 'key';
const NO_HITS: readonly PayloadHit[] = [];

function locate(parent: string, step: Step, key: string): string {
  switch (step) {
    case 'root':
      return 'body';
    case 'prop':
      return `${parent}.${safeName(key)}`;
    case 'item':
      return `${parent}[]`;
    case 'key':
      return `${parent}.$key`;
  }
}

function scanInto(findings: Finding[], decoded: string, location: string): void {
  if (decoded === '') return;
  for (const hit of scanValue(decoded)) {
    if (findings.length >= MAX_FINDINGS) return;
    findings.push({ kind: hit.kind, rule: hit.rule, location });
  }
}

/**
 * A location must never carry the payload: a key made of ordinary identifier characters is kept
 * (`query.page`), anything else becomes `?`. Keys that themselves trip a rule are reported at
 * `query.$key` / `body.….$key`.
 */
const SAFE_NAME = /^[A-Za-z0-9_-]{1,40}$/;
function safeName(key: string): string {
  return SAFE_NAME.test(key) ? key : '?';
}
