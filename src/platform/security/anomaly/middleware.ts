import type Router from '@koa/router';
import type { Step } from '../../pipeline';
import type { AuditSink } from '../../audit/catalogue';
import { PayloadTooLargeError, SecurityViolationError } from '../../errors/app-error';
import type { AppContext, AppState } from '../../context/state';
import type { Logger } from '../../logging/logger';
import type { Instruments } from '../../telemetry/instruments';
import { BODY_MAX_DEPTH, inspectBody, inspectRequestLine } from './inspect';
import type { AnomalyMode, Finding } from './kinds';
import { createReporter } from './report';
import { routeFacts, type RouteFacts } from './server-to-server';

export interface AnomalyDetectorOptions {
  mode: AnomalyMode;
  /** ANOMALY_BODY_SCAN_BYTES: characters of a body's keys and string values scanned; 0 turns body scanning off. */
  bodyScanBytes: number;
  logger: Logger;
  instruments: Instruments;
  audit: AuditSink;
  /** The app's router, asked which route (and whether a server-to-server one) a request will reach. */
  router: Router<AppState>;
}

export interface AnomalyDetector {
  /** Early in the chain: path, query, headers; sees the body parser's 413 on the way out. */
  requestScan: Step;
  /** Right after body parsing: string values of JSON and form bodies. */
  bodyScan: Step;
}

const OVERSIZED: readonly Finding[] = [{ kind: 'oversized', rule: 'size.body_limit', location: 'body' }];

/** Probes call without a User-Agent by design (kubelet, load balancers). */
const PROBE_PREFIX = '/health/';

export function createAnomalyDetector(opts: AnomalyDetectorOptions): AnomalyDetector {
  const { mode, router, instruments } = opts;
  const report = createReporter(opts);
  // Facts are looked up at most once per request, and only when something needs them.
  const factsFor = new WeakMap<AppContext, RouteFacts>();
  const facts = (ctx: AppContext): RouteFacts => {
    let f = factsFor.get(ctx);
    if (!f) factsFor.set(ctx, (f = routeFacts(router, ctx.method, ctx.path)));
    return f;
  };

  const act = (ctx: AppContext, findings: readonly Finding[]): void => {
    const { route } = facts(ctx);
    if (mode === 'monitor') return report(ctx, findings, route, 'flagged');
    report(ctx, findings, route, 'blocked');
    instruments.securityBlocked.add(1, route === undefined ? { kind: findings[0]!.kind } : { kind: findings[0]!.kind, 'http.route': route });
    throw new SecurityViolationError();
  };

  return {
    requestScan: {
      name: 'anomaly request scan',
      before(ctx) {
        const findings = inspectRequestLine(
          { path: ctx.path, querystring: ctx.querystring, headers: ctx.req.headers },
          { userAgentOptional: () => ctx.path.startsWith(PROBE_PREFIX) || facts(ctx).serverToServer },
        );
        if (findings.length > 0) act(ctx, findings);
      },
      after(ctx, failure) {
        // Already refused with 413 by the parser or an upload route: recorded, never turned into a 403.
        if (failure !== undefined && isOversized(failure.error)) report(ctx, OVERSIZED, facts(ctx).route, 'flagged');
      },
    },

    bodyScan: {
      name: 'anomaly body scan',
      before(ctx) {
        const body = (ctx.request as { body?: unknown }).body;
        if (opts.bodyScanBytes > 0 && typeof body === 'object' && body !== null) {
          const { findings, complete } = inspectBody(body, { budget: opts.bodyScanBytes, maxDepth: BODY_MAX_DEPTH });
          if (!complete) ctx.state.span?.setAttribute('caly.anomaly.body_scan_truncated', true);
          if (findings.length > 0) act(ctx, findings);
        }
      },
    },
  };
}

function isOversized(err: unknown): boolean {
  if (err instanceof PayloadTooLargeError) return true;
  const e = err as { status?: unknown; type?: unknown } | null;
  return typeof e === 'object' && e !== null && (e.status === 413 || e.type === 'entity.too.large');
}
