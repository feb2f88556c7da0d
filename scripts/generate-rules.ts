/**
 * Writes otel/prometheus/rules/{recording,slo,alerts}.yml from otel/slo.yaml.
 *   npm run rules:generate                      # the committed production rules
 *   npx tsx scripts/generate-rules.ts --profile test --out /tmp/rules   # a profile, elsewhere
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateRuleFiles } from './observability/generate';

const { values } = parseArgs({ options: { profile: { type: 'string' }, out: { type: 'string' } } });
const out = resolve(values.out ?? join(__dirname, '..', 'otel', 'prometheus', 'rules'));
mkdirSync(out, { recursive: true });
for (const [name, text] of Object.entries(generateRuleFiles(values.profile))) {
  writeFileSync(join(out, name), text);
  process.stdout.write(`wrote ${join(out, name)}\n`);
}
