// The snippets of docker/guides/README.md that the release tests run: a `<!-- snippet: NAME -->`
// line, then a fenced block (the same marking test/release/guides.docker.test.ts reads).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../helpers/pid1.ts';

const README = readFileSync(resolve(ROOT, 'docker/guides/README.md'), 'utf8');

/** The text of snippet NAME, with a final newline; throws when the guide has none. */
export function guideSnippet(name: string): string {
  const m = new RegExp(`<!-- snippet: ${name} -->\\n( *)\`\`\`\\w*\\n([\\s\\S]*?)\\n\\1\`\`\``).exec(README);
  if (m === null) throw new Error(`docker/guides/README.md has no snippet '${name}'`);
  return (
    m[2]!
      .split('\n')
      .map((l) => l.slice(m[1]!.length))
      .join('\n') + '\n'
  );
}
