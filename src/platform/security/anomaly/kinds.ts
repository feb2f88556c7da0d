/** The anomaly kinds, a closed list: they are metric label values and audit metadata. */
export const ANOMALY_KINDS = ['sql_injection', 'xss', 'command_injection', 'path_traversal', 'oversized', 'missing_user_agent', 'suspicious_headers'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** The kinds found by looking at a value's content (as opposed to the request's shape). */
export type PayloadKind = Extract<AnomalyKind, 'sql_injection' | 'xss' | 'command_injection' | 'path_traversal'>;

/**
 * One finding. `location` names WHERE (`path`, `query.q`, `body.note`, `header.referer`), never
 * what was there: it is safe to log, trace and audit.
 */
export interface Finding {
  readonly kind: AnomalyKind;
  readonly rule: string;
  readonly location: string;
}

export type AnomalyMode = 'monitor' | 'block';
