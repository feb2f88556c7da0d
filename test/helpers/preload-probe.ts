import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { until } from './poll';

/**
 * The client of the cost tests (request-cost, old-space-per-request): a GET over `agent` that
 * resolves with the status once the body is read, and nothing else the service would count.
 */
export function statusGetter(baseUrl: () => string, agent: Agent): (path: string) => Promise<number> {
  return (path) =>
    new Promise<number>((done, fail) => {
      const req = request(`${baseUrl()}${path}`, { agent, headers: { 'user-agent': 'caly-test/1' } }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode!));
      });
      req.on('error', fail);
      req.end();
    });
}

/**
 * Sends SIGUSR2 to a service run with one of test/fixtures' preloads and waits for the JSON it
 * writes to `file` in answer (removed first, so an older answer is never read).
 */
export function signalForJson<T>(child: ChildProcess, file: string): Promise<T> {
  rmSync(file, { force: true });
  child.kill('SIGUSR2');
  return until(() => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch {
      return undefined; // not written yet, or not completely
    }
  }, 2_000);
}
