// Integration tests run the built executable, never the sources: make sure it exists and
// that this machine can make a pid namespace. In CI a missing prerequisite fails the run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TSINIT } from './pid1.ts';

export default function setup(): void {
  if (!existsSync(TSINIT)) throw new Error(`${TSINIT} is missing: run 'npm run build' first (npm test does)`);
  if (process.getuid?.() !== 0)
    throw new Error('the integration tests need root (unshare --pid, prctl, /proc of other users)');
  execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
}
