/**
 * The repository documents itself: every relative link in its Markdown files (README, docs/, package
 * READMEs) must point at a file or folder inside the repository that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', '.git', '.tools', '.data', 'dist', 'test-artifacts', '.turbo']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? markdownFiles(path) : entry.name.endsWith('.md') ? [path] : [];
  });
}

/** `[text](target)` links outside code, without external URLs and pure anchors. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'));
}

it('every relative link in the Markdown files resolves inside the repository', () => {
  const files = markdownFiles(ROOT);
  expect(files.map((f) => relative(ROOT, f))).toContain('README.md');
  const broken = files.flatMap((file) =>
    relativeLinks(readFileSync(file, 'utf8')).flatMap((link) => {
      const target = resolve(dirname(file), decodeURIComponent(link.split('#')[0]!));
      const inside = !relative(ROOT, target).startsWith('..');
      return inside && existsSync(target) ? [] : [`${relative(ROOT, file)}: ${link}`];
    }),
  );
  expect(broken).toEqual([]);
});

it('catches a broken link (the check itself can fail)', () => {
  expect(relativeLinks('see [x](nowhere.md), [y](https://example.com), `[z](in-code.md)` and [w](#anchor)')).toEqual(['nowhere.md']);
});

it('the published packages’ READMEs link nowhere relative: on the registry, a package has only its own files', () => {
  for (const file of ['apps/server/README.md', 'packages/client/README.md', 'packages/react/README.md']) {
    expect(relativeLinks(readFileSync(join(ROOT, file), 'utf8')), file).toEqual([]);
  }
});
