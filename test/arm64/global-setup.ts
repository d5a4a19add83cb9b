// Prerequisites of the shipping suite (npm run test:arm64): root and pid namespaces, qemu-user
// and the arm64 libraries the Node build needs (.ci/install arm64, as root), and fresh release
// artifacts (built here when missing or older than the sources). Fails loudly.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../helpers/pid1.ts';
import { ARM64_BIN, ensureRelease } from '../release/artifacts.ts';

export default function setup(): void {
  if (process.getuid?.() !== 0) throw new Error('the arm64 suite needs root (unshare --pid, apt-get for qemu)');
  execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  execFileSync(resolve(ROOT, '.ci/install'), ['arm64'], { stdio: 'inherit' });
  ensureRelease();
  // One emulated start before any test: a broken qemu fails here, in one line.
  const v = execFileSync('qemu-aarch64-static', [ARM64_BIN, '--version'], { encoding: 'utf8' });
  if (!v.includes('linux-arm64')) throw new Error(`dist/tsinit-linux-arm64 --version under qemu said: ${v}`);
}
