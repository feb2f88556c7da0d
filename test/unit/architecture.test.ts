import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../helpers/service';

interface Cruised {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string }> }>;
  summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> };
}

/** The folder a file belongs to, for the folder-level graph: platform/<x>, modules/<x>, or the composition root. */
function folderOf(file: string): string | undefined {
  const m = /^src\/(platform|modules)\/([^/]+)\//.exec(file);
  if (m) return `${m[1]}/${m[2]}`;
  return file.startsWith('src/') ? 'composition' : undefined;
}

/** Strongly connected components of more than one folder (Tarjan). */
function folderCycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('architecture: platform and modules (dependency-cruiser)', function () {
  this.timeout(60_000);
  let cruised: Cruised;
  before(() => {
    const bin = resolve(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
    const json = execFileSync(process.execPath, [bin, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    cruised = JSON.parse(json) as Cruised;
  });

  it('sees the whole tree', () => {
    expect(cruised.modules.filter((m) => m.source.startsWith('src/platform/')).length).to.be.greaterThan(50);
    expect(cruised.modules.filter((m) => m.source.startsWith('src/modules/')).length).to.be.greaterThan(20);
  });

  it('the platform never imports a module, modules meet only through index.ts, and no file cycle exists', () => {
    const found = cruised.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(found).to.deep.equal([]);
  });

  it('no cycle between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const m of cruised.modules) {
      const from = folderOf(m.source);
      if (!from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      for (const d of m.dependencies) {
        const to = folderOf(d.resolved);
        if (to && to !== from) edges.get(from)!.add(to);
      }
    }
    expect(folderCycles(edges)).to.deep.equal([]);
  });

  it('the check itself catches a platform → module import and a folder cycle', () => {
    expect(
      folderCycles(
        new Map([
          ['platform/a', new Set(['platform/b'])],
          ['platform/b', new Set(['platform/a'])],
        ]),
      ),
    ).to.deep.equal([['platform/a', 'platform/b']]);
    expect(folderOf('src/modules/calls/routes.ts')).to.equal('modules/calls');
    expect(folderOf('src/app.ts')).to.equal('composition');
  });
});
