/**
 * Paths that carry a secret in a segment (the Exotel webhook credential). Every place that records
 * a path (span url.path, the access log) goes through `loggablePath`, including unmatched paths
 * (a 404 or 405 under /webhooks/exotel/<credential>/…), where no route-level code ever runs.
 */
// Any case and any run of slashes: the router serves `/Webhooks//exotel/<credential>/…` too.
const SECRET_SEGMENT = /^(\/+webhooks\/+exotel\/+)[^/]+/i;

export const REDACTED_PATH_SECRET = '[credential]';

export function loggablePath(path: string): string {
  return /^\/+webhooks\//i.test(path) ? path.replace(SECRET_SEGMENT, `$1${REDACTED_PATH_SECRET}`) : path;
}
