// Size of each init's executable on disk, raw and gzipped (level 9, as a registry layer would
// roughly be), and the libraries it loads, which a minimal image must carry too.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

/** Shared libraries a dynamically linked executable needs (ldd), or [] when static. */
function librariesOf(path) {
  try {
    const out = execFileSync('ldd', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out
      .split('\n')
      .map((l) => l.trim().split(' ')[0])
      .filter((l) => l !== '' && !l.startsWith('linux-vdso'));
  } catch {
    return []; // "not a dynamic executable"
  }
}

export function measureSize(name, path) {
  const bytes = statSync(path).size;
  const gzBytes = gzipSync(readFileSync(path), { level: 9 }).length;
  return { name, path, bytes, gzBytes, libraries: librariesOf(path) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ensurePrerequisites, ensureBuilt, listInits, printTable, ROOT, NODE } = await import('./lib/common.mjs');
  ensurePrerequisites();
  ensureBuilt();
  const rows = [
    ...listInits({ tsinit: `${ROOT}/dist/tsinit`, tsinitNode: `${ROOT}/dist/tsinit-node` }).map((i) =>
      measureSize(i.name, i.path),
    ),
    measureSize('node (pinned, unstripped)', NODE),
  ];
  printTable(
    ['init', 'bytes', 'gzip -9 bytes', 'libraries'],
    rows.map((r) => [r.name, r.bytes, r.gzBytes, r.libraries.length]),
  );
}
