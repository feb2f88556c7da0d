import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../helpers/service';

interface Variant {
  file: string;
  why: string;
  dropLinesWith?: string[];
}
interface Ablate {
  VARIANTS: Record<string, Variant>;
  build(name: string, out?: string): string;
}

/**
 * bench/ablate.js takes parts of the request path away by editing copies of dist/ at markers it
 * finds in the compiled code. When app.ts or the span middleware changes shape, a marker stops
 * matching: the script then refuses with a message rather than measuring the wrong thing, and this
 * test says so before anyone needs the measurement.
 */
describe('ablation variants still find their parts in the build (bench/ablate.js)', function () {
  this.timeout(60_000);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ablate = require(join(ROOT, 'bench', 'ablate.js')) as Ablate;
  const out = mkdtempSync(join(tmpdir(), 'caly-ablate-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  for (const [name, variant] of Object.entries(ablate.VARIANTS)) {
    it(`${name}: ${variant.why}`, () => {
      const dir = ablate.build(name, out);
      const original = readFileSync(join(ROOT, 'dist', variant.file), 'utf8');
      const edited = readFileSync(join(dir, variant.file), 'utf8');
      expect(edited).to.not.equal(original);
      // Only the named file changes, and the copy still loads as a module.
      expect(readFileSync(join(dir, 'main.js'), 'utf8')).to.equal(readFileSync(join(ROOT, 'dist', 'main.js'), 'utf8'));
      expect(() => new Function(edited)).to.not.throw();
    });
  }

  it('a marker that no longer matches stops the build of that variant with a message', () => {
    ablate.VARIANTS['gone-step'] = { file: 'app.js', why: 'a step app.ts no longer has', dropLinesWith: ['noSuchStep)('] };
    try {
      expect(() => ablate.build('gone-step', out)).to.throw(/app\.js: "noSuchStep\)\(" matches 0 lines, expected 1/);
    } finally {
      delete ablate.VARIANTS['gone-step'];
    }
  });
});
