import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { ERROR_STATUS } from '../../src/platform/api/schemas';
import { ROOT } from '../helpers/service';

const markdown = execFileSync('git', ['ls-files', '*.md'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && existsSync(resolve(ROOT, f)));

describe('documentation', () => {
  it('every link in the Markdown files stays in the repository and points at a file that exists', () => {
    expect(markdown).to.include('README.md');
    const problems: string[] = [];
    for (const file of markdown) {
      const text = readFileSync(resolve(ROOT, file), 'utf8');
      if (text.includes('../shared')) problems.push(`${file}: refers to a path outside the repository (../shared)`);
      const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, ''); // code is not a link
      for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = m[1]!;
        if (target.startsWith('#')) continue;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
          problems.push(`${file}: ${target} leaves the repository`);
          continue;
        }
        const path = resolve(dirname(resolve(ROOT, file)), target.split('#')[0]!);
        if (relative(ROOT, path).startsWith('..')) problems.push(`${file}: ${target} points outside the repository`);
        else if (!existsSync(path)) problems.push(`${file}: ${target} does not exist`);
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('the README lists every error code a client can get, with its status', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(readme, code).to.match(new RegExp(`\\| ${status} \\| \`${code}\` \\|`));
  });
});
