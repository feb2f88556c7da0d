import type { IncomingMessage, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';
import { PrometheusSerializer, type PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { HttpDurationProducer } from './http-duration';
import { OPENMETRICS_CONTENT_TYPE, rewriteExposition, TEXT_CONTENT_TYPE, wantsOpenMetrics } from './openmetrics';

const HTTP_DURATION_FAMILY = 'http_server_request_duration_seconds';

/**
 * GET /metrics on the internal metrics port: Prometheus text (0.0.4) by default, OpenMetrics with
 * exemplars when the scraper asks for it (Accept: application/openmetrics-text), which is what
 * Prometheus needs to store exemplars. Both carry unit-suffixed names (openmetrics.ts).
 * Serialised with the exporter's own options.
 */
export function metricsRequestHandler(exporter: PrometheusExporter, httpDuration: HttpDurationProducer) {
  const serializer = new PrometheusSerializer('', false, undefined, false, true);
  const exemplarFor = (family: string, labels: Readonly<Record<string, string>>, le: string) =>
    family === HTTP_DURATION_FAMILY ? httpDuration.exemplar(labels, le) : undefined;

  return function metricsHandler(req: IncomingMessage, res: ServerResponse): void {
    const format = wantsOpenMetrics(req.headers.accept) ? 'openmetrics' : 'text';
    exporter.collect().then(
      ({ resourceMetrics, errors }) => {
        if (errors.length) diag.error('metrics collection errors', ...errors);
        res.writeHead(200, { 'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE });
        res.end(rewriteExposition(serializer.serialize(resourceMetrics), format, exemplarFor));
      },
      (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`# failed to export metrics: ${err.message}\n`);
      },
    );
  };
}
