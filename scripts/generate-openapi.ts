/**
 * Writes docs/openapi.json from the route declarations (src/modules/catalogue.ts). The drift test
 * (test/openapi.test.ts) fails when the checked-in copy differs: run `npm run openapi:generate`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serviceDocument } from '../src/modules/openapi-document';

const out = join(__dirname, '..', 'docs', 'openapi.json');
writeFileSync(out, `${JSON.stringify(serviceDocument(), null, 2)}\n`);
console.log(`wrote ${out}`);
