/**
 * A small builder for the Grafana dashboards in dashboards/*.json. Written by hand because the
 * one dashboards-as-code library (@grafana/grafana-foundation-sdk) emits datasource-variable
 * fields that @grafana/schema, our type check, rejects; this emits only what the schema knows.
 */

/** Fixed datasource uids: grafana/provisioning/datasources/datasources.yml provisions them. */
export const PROMETHEUS_UID = 'caly-prometheus';
export const JAEGER_UID = 'caly-jaeger';

const DS = { type: 'prometheus', uid: '${datasource}' } as const;

export interface Query {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  kind?: 'timeseries' | 'stat';
  /** Width in grid units (24 per row); panels flow left to right. */
  w?: number;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  panels: PanelSpec[];
}

function layout(specs: PanelSpec[]) {
  let x = 0;
  let y = 0;
  return specs.map((p, i) => {
    const w = p.w ?? 12;
    const h = p.kind === 'stat' ? 5 : 8;
    if (x + w > 24) {
      x = 0;
      y += 8;
    }
    const gridPos = { h, w, x, y };
    x += w;
    return {
      id: i + 1,
      type: p.kind ?? 'timeseries',
      title: p.title,
      description: p.description,
      datasource: DS,
      gridPos,
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options:
        p.kind === 'stat'
          ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' }
          : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
      targets: p.queries.map((q, j) => ({ refId: String.fromCharCode(65 + j), datasource: DS, expr: q.expr, legendFormat: q.legend, range: true })),
    };
  });
}

/** Grafana Explore on the Jaeger datasource with a trace id: the first half of any request id. */
const traceLink = (): string => {
  const panes = {
    t: {
      datasource: JAEGER_UID,
      queries: [{ refId: 'A', datasource: { type: 'jaeger', uid: JAEGER_UID }, query: '${trace_id}' }],
      range: { from: 'now-1h', to: 'now' },
    },
  };
  return `/explore?schemaVersion=1&panes=${encodeURIComponent(JSON.stringify(panes)).replace(/%24%7Btrace_id%7D/g, '${trace_id}')}`;
};

export function dashboard(spec: DashboardSpec) {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['caly-api'],
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timezone: 'utc',
    links: [
      {
        title: 'Caly API dashboards',
        type: 'dashboards',
        tags: ['caly-api'],
        asDropdown: true,
        icon: 'external link',
        includeVars: true,
        keepTime: true,
        targetBlank: false,
        tooltip: '',
      },
      {
        // Every response carries its request id (x-request-id, error.requestId, log request_id),
        // `<trace id>-<span id>`: paste the part before the dash (or a log line's trace_id) in the
        // "Trace id" box, then follow this link.
        title: 'Open trace (request id)',
        type: 'link',
        url: traceLink(),
        asDropdown: false,
        icon: 'info',
        includeVars: false,
        keepTime: false,
        targetBlank: true,
        tags: [],
        tooltip: 'Opens the trace whose id is in the "Trace id" box in Jaeger (a request id is <trace id>-<span id>)',
      },
    ],
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: { text: 'Prometheus', value: PROMETHEUS_UID } },
        {
          name: 'job',
          label: 'Job',
          type: 'query',
          datasource: DS,
          query: { query: 'label_values(http_server_request_duration_seconds_count, job)', refId: 'job' },
          refresh: 2,
          current: { text: 'caly-api', value: 'caly-api' },
        },
        { name: 'trace_id', label: 'Trace id', type: 'textbox', query: '', current: { text: '', value: '' } },
      ],
    },
    annotations: { list: [] },
    panels: layout(spec.panels),
  };
}
