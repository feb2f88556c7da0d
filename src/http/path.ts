/**
 * Paths that carry a secret in a segment (the Exotel webhook credential). Every place that records
 * a path (span url.path, the access log) goes through `loggablePath`, including unmatched paths
 * (a 404 or 405 under /webhooks/exotel/<credential>/…), where no route-level code ever runs.
 */
const SECRET_SEGMENT = /^(\/webhooks\/exotel\/)[^/]+/;

export const REDACTED_PATH_SECRET = '[credential]';

export function loggablePath(path: string): string {
  return path.startsWith('/webhooks/') ? path.replace(SECRET_SEGMENT, `$1${REDACTED_PATH_SECRET}`) : path;
}
