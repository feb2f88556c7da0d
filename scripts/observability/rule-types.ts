import type { Duration, Profile, SloConfig } from './slo-config';

export type Severity = 'page' | 'ticket';
export type Team = 'sre' | 'security';

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: Duration;
  // severity and team drive Alertmanager routing (otel/alertmanager/alertmanager.yml): required.
  labels: { severity: Severity; team: Team } & Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  interval?: Duration;
  rules: Array<RecordingRule | AlertRule>;
}

/** What every rule builder gets: the validated config and the profile applied to it. */
export interface RuleContext {
  config: SloConfig;
  profile: Profile;
}

/** The alert's `for:` after the profile (the e2e profile waits for nothing). */
export const forOf = (ctx: RuleContext, value: Duration): Duration => ctx.profile.for ?? value;

/** The alert's rate window after the profile. */
export const windowOf = (ctx: RuleContext, value: Duration): Duration => ctx.profile.alert_window ?? value;

/** `docs/runbooks.md#<anchor>`: the anchor is the alert name, as GitHub slugs a `## Name` heading. */
export const runbook = (ctx: RuleContext, alert: string): string => `${ctx.config.runbook_base_url}#${alert.toLowerCase()}`;

/** Selector on the service's own job, so that rules never match another target's metrics. */
export const job = (ctx: RuleContext): string => `job="${ctx.config.job}"`;

/** Drops float noise from derived numbers (1 - 0.999 must render as 0.001). */
export const num = (n: number): number => Number(n.toPrecision(12));
