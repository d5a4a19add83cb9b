// Prerequisites of the shipping suite (npm run test:arm64): root and pid namespaces, qemu-user
// and the arm64 C libraries from Debian multiarch (installed here when missing, as root), and
// fresh release artifacts (built here when missing or older than the sources). Fails loudly.
import { execFileSync } from 'node:child_process';
import { ARM64_BIN, ensureRelease } from '../release/artifacts.ts';

/** Debian packages, arm64 ones by their multiarch name; libatomic1 is needed by node itself. */
const PACKAGES = ['qemu-user-static', 'libc6:arm64', 'libstdc++6:arm64', 'libgcc-s1:arm64', 'libatomic1:arm64'];

function missingPackages(): string[] {
  return PACKAGES.filter((p) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f', '${Status}', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
    } catch {
      return true;
    }
  });
}

function installQemu(): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages ${missing.join(' ')}: install them as root (dpkg --add-architecture arm64 first)`);
  const apt = ['-o', 'DPkg::Lock::Timeout=300', '-qq'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!execFileSync('dpkg', ['--print-foreign-architectures'], { encoding: 'utf8' }).split('\n').includes('arm64')) {
    execFileSync('dpkg', ['--add-architecture', 'arm64']);
  }
  execFileSync('apt-get', [...apt, 'update'], { stdio: 'inherit', env });
  execFileSync('apt-get', [...apt, 'install', '-y', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const still = missingPackages();
  if (still.length > 0) throw new Error(`apt-get could not install ${still.join(' ')}`);
}

export default function setup(): void {
  if (process.getuid?.() !== 0) throw new Error('the arm64 suite needs root (unshare --pid, apt-get for qemu)');
  execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  installQemu();
  ensureRelease();
  // One emulated start before any test: a broken qemu or library set fails here, in one line.
  const v = execFileSync('qemu-aarch64-static', ['-L', '/', ARM64_BIN, '--version'], { encoding: 'utf8' });
  if (!/linux-arm64/.test(v)) throw new Error(`dist/tsinit-linux-arm64 --version under qemu said: ${v}`);
}
