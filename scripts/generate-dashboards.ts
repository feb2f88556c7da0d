/**
 * Writes dashboards/*.json from scripts/observability/dashboards.ts (`npm run dashboards:generate`).
 * test/observability-static.test.ts fails when the committed JSON differs from this output.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARD_FILES } from './observability/dashboards';

export const renderDashboard = (d: unknown): string => `${JSON.stringify(d, null, 2)}\n`;

if (require.main === module) {
  for (const [file, d] of Object.entries(DASHBOARD_FILES)) {
    const path = join(__dirname, '..', 'dashboards', file);
    writeFileSync(path, renderDashboard(d));
    process.stdout.write(`wrote ${path}\n`);
  }
}
