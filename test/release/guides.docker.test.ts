// Runs every snippet of docker/guides/README.md on the real engine of docker/engine.sh: the
// files shown are the files in docker/guides, the commands are run as written (plus
// `--network host` for one-line builds: the engine has no bridge), the outputs and error lines
// are what the engine prints. Base images are local stand-ins named after the real ones (no
// registry here); a test checks each is what the guide says it is.
import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/core/cli.ts';
import { docker, dockerOk, HOST, INIT_HOST, sleep, STATE_DIR, type Result } from '../docker/docker.ts';
import { ROOT } from '../helpers/pid1.ts';
import { ensureRelease, NODE_VERSION, PKG, RELEASE } from './artifacts.ts';

const GUIDES = resolve(ROOT, 'docker/guides');
const README = readFileSync(resolve(GUIDES, 'README.md'), 'utf8');
/** The folder the guide's commands run in: its files, the static release, busybox, the npm package. */
const CTX = resolve(STATE_DIR, 'guides');
/** The Node build's own folder (its snippets unpack a 117 MB executable: kept out of CTX's builds). */
const NODE_CTX = resolve(STATE_DIR, 'guides-node');
/** What the stand-in images are built from (Node and npm, distroless's passwd and group). */
const STANDIN_CTX = resolve(STATE_DIR, 'guides-standins');
const CONTAINERS = ['myapp', 'myapp-init', 'myapp-node', 'myapp-scratch', 'sleeper', 'tsinit-guide-pod'];
const STATIC_VERSION = `tsinit version ${PKG.version} - duktape 2.7.0 musl static linux-x64\n`;

/** Snippets by name: a `<!-- snippet: NAME -->` line, then a fenced block (indented in lists). */
function readSnippets(md: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of md.matchAll(/<!-- snippet: (\S+) -->\n( *)```\w*\n([\s\S]*?)\n\2```/g)) {
    const indent = m[2]!.length;
    out.set(
      m[1]!,
      m[3]!
        .split('\n')
        .map((l) => l.slice(indent))
        .join('\n') + '\n',
    );
  }
  return out;
}
const SNIPPETS = readSnippets(README);
function snippet(name: string): string {
  const s = SNIPPETS.get(name);
  if (s === undefined) throw new Error(`docker/guides/README.md has no snippet '${name}'`);
  return s;
}
/** The lines of a command snippet. */
function lines(name: string): string[] {
  return snippet(name).trim().split('\n');
}

/** Debian packages the test itself uses on the host; installed when missing (root). */
function ensureDebianPackages(names: string[]): void {
  const missing = names.filter((p) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f', '${Status}', p], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).includes('install ok installed');
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  const apt = ['-o', 'DPkg::Lock::Timeout=300', '-qq'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', [...apt, 'update'], { stdio: 'inherit', env });
  execFileSync('apt-get', [...apt, 'install', '-y', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
}

/**
 * A snippet's text (one line, or a whole script) run by sh in cwd against host, stderr into
 * stdout as a terminal shows them; a line that starts `docker build ` gets -q --network host.
 */
function sh(text: string, { host = HOST, cwd = CTX, merge = false } = {}): Promise<Result> {
  const cmd = (merge ? 'exec 2>&1\n' : '') + text.replace(/^docker build /, 'docker build -q --network host ');
  const start = performance.now();
  return new Promise((res) => {
    execFile(
      'sh',
      ['-c', cmd],
      {
        cwd,
        env: {
          ...process.env,
          PWD: cwd,
          DOCKER_HOST: host,
          DOCKER_BUILDKIT: '0',
          PATH: `/usr/bin:/bin:${process.env.PATH}`,
        },
        timeout: 300_000,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        res({ code, stdout, stderr, ms: performance.now() - start });
      },
    );
  });
}

/** Builds a Dockerfile text with context dir as tag on host. */
async function buildText(tag: string, text: string, host: string, dir = STANDIN_CTX): Promise<void> {
  const file = resolve(dir, `standin-${tag.replace(/[^a-z0-9]+/g, '-')}.Dockerfile`);
  writeFileSync(file, text);
  await dockerOk(['build', '-q', '--network', 'host', '-t', tag, '-f', file, dir], { host, timeoutMs: 600_000 });
}

function place(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

/** The three folders: the guide's (with the release), the Node build's, the stand-ins'. */
function makeContexts(): void {
  for (const d of [CTX, NODE_CTX, STANDIN_CTX]) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  for (const f of readdirSync(GUIDES)) if (f !== 'README.md') copyFileSync(resolve(GUIDES, f), resolve(CTX, f));
  for (const f of ['tsinit-linux-x64.tar.gz', 'tsinit-linux-arm64.tar.gz', 'SHA256SUMS'])
    place(resolve(RELEASE, f), resolve(CTX, f));
  place(resolve(RELEASE, `tsinit-node-${PKG.version}.tgz`), resolve(CTX, `tsinit-node-${PKG.version}.tgz`));
  place(resolve(RELEASE, 'tsinit-node-linux-x64.tar.gz'), resolve(NODE_CTX, 'tsinit-node-linux-x64.tar.gz'));
  place(realpathSync(process.execPath), resolve(STANDIN_CTX, 'node'));
  const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  cpSync(resolve(dirname(npmCli), '..'), resolve(STANDIN_CTX, 'npm'), { recursive: true });
  // distroless/static's accounts (root, nobody, nonroot), its only files a program could notice.
  writeFileSync(
    resolve(STANDIN_CTX, 'passwd'),
    'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
  );
  writeFileSync(resolve(STANDIN_CTX, 'group'), 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n');
}

/**
 * The stand-ins, from engine.sh's images: the plain minbase (slim Debian), minbase + python3
 * (slim Python), busybox-static (busybox, Alpine), scratch + accounts (distroless/static), and
 * on the shared daemon minbase + libatomic1 + this Node 26 and npm (node:26-bookworm-slim).
 */
async function buildStandIns(host: string, withNode: boolean): Promise<void> {
  const tag = (from: string, to: string) => dockerOk(['tag', from, to], { host });
  await tag('tsinit-minbase', 'debian:bookworm-slim');
  await tag('tsinit-debian', 'python:3.12-slim-bookworm');
  await tag('tsinit-busybox', 'busybox');
  await tag('tsinit-busybox', 'alpine:3.20');
  await buildText('gcr.io/distroless/static-debian12', 'FROM scratch\nCOPY passwd group /etc/\n', host);
  if (!withNode) return;
  await buildText(
    'node:26-bookworm-slim',
    [
      'FROM tsinit-minbase',
      'RUN apt-get update && apt-get install -y --no-install-recommends libatomic1 && rm -rf /var/lib/apt/lists/*',
      'COPY node /usr/local/bin/node',
      'COPY npm /usr/local/lib/node_modules/npm',
      'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version && npm --version',
    ].join('\n') + '\n',
    host,
  );
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the guide tests need root (docker/engine.sh, apt-get)');
  ensureDebianPackages(['python3-yaml', 'busybox-static', 'file']);
  ensureRelease();
  execFileSync(resolve(ROOT, 'docker/engine.sh'), ['up-init'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 900_000,
  });
  makeContexts();
  await Promise.all([buildStandIns(HOST, true), buildStandIns(INIT_HOST, false)]);
  for (const c of CONTAINERS) for (const h of [HOST, INIT_HOST]) await docker(['rm', '-f', c], { host: h });
}, 1_200_000);

afterAll(async () => {
  for (const c of CONTAINERS) for (const h of [HOST, INIT_HOST]) await docker(['rm', '-f', c], { host: h });
});

/** The unpack snippet, run once in CTX: later snippets use the `tsinit` and `INSTALL` it leaves. */
let unpacked: Promise<Result> | undefined;
function unpack(): Promise<Result> {
  unpacked ??= sh(snippet('unpack'), { merge: true });
  return unpacked;
}

/** The image of the guide's Dockerfile on host, built once per host (the other tests build FROM it). */
const myapp = new Map<string, Promise<void>>();
function buildMyapp(host = HOST): Promise<void> {
  if (!myapp.has(host)) {
    myapp.set(
      host,
      sh(lines('build-run')[0]!, { host }).then((b) => {
        if (b.code !== 0) throw new Error(`docker build of the guide's Dockerfile failed:\n${b.stdout}\n${b.stderr}`);
      }),
    );
  }
  return myapp.get(host)!;
}

async function waitLogs(name: string, re: RegExp, host = HOST, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await docker(['logs', name], { host });
    const logs = r.stdout + r.stderr;
    if (re.test(logs)) return logs;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in the logs of ${name}:\n${logs}`);
    await sleep(100);
  }
}

/** The regular files in an image (from a created, never started container), but the ones Docker adds (/dev/console, /etc/hosts...). */
async function imageFiles(image: string, host = HOST): Promise<string[]> {
  const id = (await dockerOk(['create', image, '/none'], { host })).stdout.trim();
  try {
    const tar = await new Promise<string>((res, rej) =>
      execFile(
        '/usr/bin/docker',
        ['export', id],
        {
          env: { ...process.env, DOCKER_HOST: host },
          encoding: 'latin1',
          maxBuffer: 1 << 30,
        },
        (err: Error | null, out: string) => (err ? rej(err) : res(out)),
      ),
    );
    const list = execFileSync('tar', ['-tv'], {
      input: Buffer.from(tar, 'latin1'),
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    return list
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .map((l) => '/' + l.split(/\s+/).slice(5).join(' '))
      .filter((f) => !/^\/(etc\/(hosts|hostname|resolv\.conf)|dev\/console|\.dockerenv)$/.test(f))
      .sort();
  } finally {
    await docker(['rm', '-f', id], { host });
  }
}

describe('docker/guides/README.md', () => {
  it('every code block is a named snippet, and file snippets are the files byte for byte', () => {
    const fences = README.split('\n').filter((l) => /^ *```\w/.test(l)).length;
    expect(SNIPPETS.size).toBe(fences);
    for (const [name, text] of SNIPPETS) {
      if (!/^(Dockerfile|k8s|daemon)/.test(name)) continue;
      expect(text, name).toBe(readFileSync(resolve(GUIDES, name), 'utf8'));
    }
    // The packages section's snippets are run by packages.engines.test.ts and npm-static.test.ts.
    expect([...SNIPPETS.keys()].sort()).toEqual([
      'Dockerfile',
      'Dockerfile.copy-from',
      'Dockerfile.node',
      'Dockerfile.npm',
      'Dockerfile.scratch',
      'build-run',
      'daemon.json',
      'deb',
      'dockerd',
      'error-libatomic',
      'error-no-glibc',
      'every-image',
      'every-image-output',
      'image-load',
      'k8s-pod.yaml',
      'ldd-node',
      'node-options',
      'node-slim',
      'npm-static',
      'pod-image-volume',
      'podman-image-mount',
      'run-init',
      'run-init-busybox',
      'scratch-run',
      'unpack',
      'unpack-output',
    ]);
  });

  it('the stand-ins are what the guide says: no libatomic in the slim ones, no C library in busybox, only accounts in distroless', async () => {
    for (const image of ['debian:bookworm-slim', 'python:3.12-slim-bookworm']) {
      const r = await docker([
        'run',
        '--rm',
        '--entrypoint',
        'sh',
        image,
        '-c',
        'ls /lib/*/libatomic* /usr/lib/*/libatomic* 2>/dev/null; test -e /lib64/ld-linux-x86-64.so.2 && echo glibc',
      ]);
      expect(r.stdout, image).toBe('glibc\n');
    }
    expect(
      (await docker(['run', '--rm', '--entrypoint', 'sh', 'python:3.12-slim-bookworm', '-c', 'command -v python3']))
        .stdout,
    ).toBe('/usr/bin/python3\n');
    const bb = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      'alpine:3.20',
      '-c',
      'ls /lib /lib64 /usr/lib 2>&1; readlink /bin/sh',
    ]);
    expect(bb.stdout).toMatch(/\/lib: No such file or directory/);
    expect(bb.stdout).toMatch(/\/usr\/lib: No such file or directory/);
    expect(bb.stdout).toMatch(/\/bin\/busybox\n$/);
    expect((await docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout).toBe(
      (await docker(['image', 'inspect', '-f', '{{.Id}}', 'alpine:3.20'])).stdout,
    );
    expect(await imageFiles('gcr.io/distroless/static-debian12')).toEqual(['/etc/group', '/etc/passwd']);
    const node = await docker(['run', '--rm', '--entrypoint', 'node', 'node:26-bookworm-slim', '--version']);
    expect(node.stdout).toBe(`v${NODE_VERSION}\n`);
  });
});

describe('the executable', () => {
  it('the checksum, INSTALL, file and ldd print what the guide shows: static, no loader, ldd exits 1', async () => {
    const r = await unpack();
    expect(r.stdout).toBe(snippet('unpack-output'));
    expect(r.code).toBe(1); // ldd's, for "not a dynamic executable"
    expect(readFileSync(resolve(CTX, 'tsinit'))).toEqual(readFileSync(resolve(RELEASE, 'tsinit-linux-x64')));
  });

  it('is under 500 KB on both architectures, about 410 KB (x64) and 460 KB (arm64)', () => {
    const x64 = statSync(resolve(RELEASE, 'tsinit-linux-x64')).size;
    const arm64 = statSync(resolve(RELEASE, 'tsinit-linux-arm64')).size;
    expect(x64).toBeGreaterThan(370_000);
    expect(x64).toBeLessThan(450_000);
    expect(arm64).toBeGreaterThan(420_000);
    expect(arm64).toBeLessThan(500_000);
  });

  it("INSTALL's recipe runs tsinit as PID 1 in every base image of the table, printing what the guide shows", async () => {
    await unpack();
    const r = await sh(snippet('every-image'), { merge: true });
    expect(r.stdout).toBe(snippet('every-image-output'));
    expect(r.code).toBe(0);
    expect(
      snippet('every-image-output')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(l.indexOf(': ') + 2) + '\n'),
    ).toEqual(Array(7).fill(STATIC_VERSION));
    // The last image built is node:26's; in it tsinit was PID 1 and --version its child.
    const pid1 = await dockerOk(['run', '--rm', 'tsinit-on-base', 'cat', '/proc/1/cmdline']);
    expect(pid1.stdout.split('\0').slice(0, 2)).toEqual(['/tsinit', '--']);
  }, 300_000);
});

describe('the multi-stage Dockerfile', () => {
  it("build, run, stop as written: stops in about a second with the app's exit code 0", async () => {
    const [, run, stop, inspect] = lines('build-run');
    await buildMyapp(); // the snippet's first line
    const r = await sh(run!);
    expect(r.code, r.stderr).toBe(0);
    await waitLogs('myapp', /app: serving on :8000/);
    const top = await docker(['exec', 'myapp', 'cat', '/proc/1/cmdline']);
    expect(top.stdout.split('\0').slice(0, 2)).toEqual(['/usr/local/bin/tsinit', '--']);
    const s = await sh(stop!);
    expect(s.code, s.stderr).toBe(0);
    expect(s.ms).toBeLessThan(5000); // the app takes ~0.5 s; Docker's timeout would be 10 s
    expect((await sh(inspect!)).stdout).toBe('0\n');
    const logs = await waitLogs('myapp', /app: done/);
    expect(logs).toContain('app: got SIGTERM, finishing');
  }, 300_000);

  it('ships the static executable, in an image without libatomic', async () => {
    await buildMyapp();
    const v = await dockerOk(['run', '--rm', '--entrypoint', '/usr/local/bin/tsinit', 'myapp', '--version']);
    expect(v.stdout).toBe(STATIC_VERSION);
    const lib = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      'myapp',
      '-c',
      'ls /lib/*/libatomic* /usr/lib/*/libatomic* 2>/dev/null; echo listed',
    ]);
    expect(lib.stdout).toBe('listed\n');
  });

  it('with TARGETARCH=arm64 the first stage unpacks the arm64 executable', async () => {
    const r = await sh('docker build --target tsinit --build-arg TARGETARCH=arm64 -t tsinit-guide-stage-arm64 .');
    expect(r.code, r.stderr).toBe(0);
    const head = await dockerOk([
      'run',
      '--rm',
      'tsinit-guide-stage-arm64',
      'od',
      '-An',
      '-tx1',
      '-j18',
      '-N2',
      '/usr/local/bin/tsinit',
    ]);
    expect(head.stdout.trim()).toBe('b7 00'); // e_machine 183: aarch64
    const sum = await dockerOk(['run', '--rm', 'tsinit-guide-stage-arm64', 'sha256sum', '/usr/local/bin/tsinit']);
    expect(sum.stdout.split(' ')[0]).toBe(
      execFileSync('sha256sum', [resolve(RELEASE, 'tsinit-linux-arm64')], { encoding: 'utf8' }).split(' ')[0],
    );
  });
});

describe('Dockerfile.scratch', () => {
  it("as written: two files in the image, a stop at once (not Docker's 10 s), exit 143", async () => {
    await unpack();
    const [cp, buildLine, run, stop, inspect] = lines('scratch-run');
    for (const l of [cp!, buildLine!]) {
      const r = await sh(l);
      expect(r.code, `${l}\n${r.stdout}${r.stderr}`).toBe(0);
    }
    expect(await imageFiles('myapp-scratch')).toEqual(['/bin/busybox', '/tsinit']);
    expect((await docker(['run', '--rm', 'myapp-scratch', '/bin/busybox', 'sh', '-c', 'exit 7'])).code).toBe(7);
    const r = await sh(run!);
    expect(r.code, r.stderr).toBe(0);
    await waitLogs('myapp-scratch', /hello from scratch/);
    const pid1 = await dockerOk(['exec', 'myapp-scratch', '/bin/busybox', 'cat', '/proc/1/cmdline']);
    expect(pid1.stdout.split('\0').slice(0, 3)).toEqual(['/tsinit', '--', '/bin/busybox']);
    const s = await sh(stop!);
    console.log(`Dockerfile.scratch: docker stop took ${(s.ms / 1000).toFixed(2)} s`);
    expect(s.code, s.stderr).toBe(0);
    expect(s.ms).toBeLessThan(3000); // Docker's timeout would be 10 s; load stretches a 0.1 s stop here
    expect((await sh(inspect!)).stdout).toBe('143\n'); // busybox sleep has no handler: it dies of the forwarded TERM
  }, 300_000);
});

describe("docker run --init with tsinit as the daemon's init", () => {
  it('daemon.json names the dockerd option the second snippet passes, and that daemon runs with it', () => {
    expect(JSON.parse(snippet('daemon.json'))).toEqual({ 'init-path': '/usr/local/bin/tsinit' });
    const flag = snippet('dockerd').trim().split(/\s+/);
    expect(flag).toEqual(['dockerd', '--init-path', '/usr/local/bin/tsinit']);
    expect(execFileSync('/usr/sbin/dockerd', ['--help'], { encoding: 'utf8' })).toMatch(/--init-path string/);
    // engine.sh up-init started the second daemon with --init-path (a copy of dist/tsinit).
    const pid = readFileSync(resolve(STATE_DIR, 'init/dockerd.pid'), 'utf8').trim();
    expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')).toContain('--init-path');
  });

  it('run, stop, inspect as written: tsinit is /sbin/docker-init, the app gets SIGTERM and exits 0', async () => {
    await buildMyapp(INIT_HOST);
    const [run, stop, inspect] = lines('run-init');
    const r = await sh(run!, { host: INIT_HOST });
    expect(r.code, r.stderr).toBe(0);
    await waitLogs('myapp-init', /app: serving/, INIT_HOST);
    const pid1 = await docker(['exec', 'myapp-init', 'cat', '/proc/1/cmdline'], { host: INIT_HOST });
    expect(pid1.stdout.split('\0').slice(0, 3)).toEqual(['/sbin/docker-init', '--', 'python3']);
    const v = await docker(['exec', 'myapp-init', '/sbin/docker-init', '--version'], { host: INIT_HOST });
    expect(v.stdout).toBe(STATIC_VERSION);
    const s = await sh(stop!, { host: INIT_HOST });
    expect(s.code, s.stderr).toBe(0);
    expect(s.ms).toBeLessThan(5000);
    expect((await sh(inspect!, { host: INIT_HOST })).stdout).toBe('0\n');
    expect(await waitLogs('myapp-init', /app: done/, INIT_HOST)).toContain('app: got SIGTERM');
  }, 300_000);

  it('in busybox as written: tsinit is PID 1, sleep dies of the forwarded TERM at once, exit 143; without --init 10 s and 137', async () => {
    const [run, stop, inspect] = lines('run-init-busybox');
    const r = await sh(run!, { host: INIT_HOST });
    expect(r.code, r.stderr).toBe(0);
    const deadline = Date.now() + 20_000;
    // Stop only once sleep runs: before that, tsinit may not yet have caught TERM.
    while (
      (await docker(['top', 'sleeper', '-o', 'pid,args'], { host: INIT_HOST })).stdout
        .split('\n')
        .every((l) => l.trim().replace(/^\d+\s+/, '') !== 'sleep 1000')
    ) {
      if (Date.now() > deadline) throw new Error('sleep 1000 did not start in sleeper');
      await sleep(100);
    }
    const pid1 = await dockerOk(['exec', 'sleeper', 'cat', '/proc/1/cmdline'], { host: INIT_HOST });
    expect(pid1.stdout.split('\0').slice(0, 3)).toEqual(['/sbin/docker-init', '--', 'sleep']);
    const s = await sh(stop!, { host: INIT_HOST });
    console.log(`--init in busybox: docker stop took ${(s.ms / 1000).toFixed(2)} s`);
    expect(s.code, s.stderr).toBe(0);
    expect(s.ms).toBeLessThan(3000);
    expect((await sh(inspect!, { host: INIT_HOST })).stdout).toBe('143\n');
    // Without --init, as the guide says: sleep is PID 1, TERM does nothing, SIGKILL after 10 s.
    await dockerOk(['rm', '-f', 'sleeper'], { host: INIT_HOST });
    await dockerOk(run!.replace(' --init', '').split(' ').slice(1), { host: INIT_HOST });
    const pid1NoInit = await dockerOk(['exec', 'sleeper', 'cat', '/proc/1/cmdline'], { host: INIT_HOST });
    expect(pid1NoInit.stdout.split('\0').slice(0, 2)).toEqual(['sleep', '1000']);
    const plain = await sh(stop!, { host: INIT_HOST });
    expect(plain.ms).toBeGreaterThanOrEqual(10_000);
    expect((await sh(inspect!, { host: INIT_HOST })).stdout).toBe('137\n');
  }, 120_000);
});

interface Pod {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    terminationGracePeriodSeconds: number;
    containers: { name: string; image: string; command: string[]; args: string[]; lifecycle?: unknown }[];
  };
}

/** The manifest parsed by a real YAML parser (Debian's python3-yaml), as JSON. */
function parseYaml(text: string): unknown[] {
  const out = execFileSync(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)'],
    { input: text, encoding: 'utf8' },
  );
  return JSON.parse(out) as unknown[];
}

describe('the Kubernetes pod manifest', () => {
  const docs = parseYaml(snippet('k8s-pod.yaml'));
  const pod = docs[0] as Pod;
  const container = pod.spec.containers[0]!;
  // The kubelet runs command + args; tsinit parses its options from the former.
  const parsed = parseCli([...container.command.slice(1), ...container.args], {});

  it('is one v1 Pod whose container runs tsinit with --term-delay, and no preStop hook', () => {
    expect(docs).toHaveLength(1);
    expect(pod.apiVersion).toBe('v1');
    expect(pod.kind).toBe('Pod');
    expect(pod.spec.containers).toHaveLength(1);
    expect(container.command[0]).toMatch(/\/tsinit$/);
    expect(container.lifecycle).toBeUndefined();
    expect(JSON.stringify(docs)).not.toMatch(/preStop/);
    expect(parsed.kind).toBe('run');
  });

  it('terminationGracePeriodSeconds exceeds term-delay + kill-after + drain, as tsinit parses them', () => {
    if (parsed.kind !== 'run') throw new Error(`tsinit rejects the manifest's command: ${JSON.stringify(parsed)}`);
    const { termDelayMs, killAfterMs, drainMs } = parsed.config;
    expect(termDelayMs).toBe(5000);
    expect(killAfterMs).toBe(20_000);
    expect(drainMs).toBe(5000);
    // The worst case: the app exits just before --kill-after, then the full drain.
    const worst = termDelayMs! + killAfterMs! + drainMs;
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(worst + 2000);
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeLessThanOrEqual(worst + 10_000);
    // The command as tsinit sees it is the container's args.
    expect(parsed.config.command).toEqual(container.args);
  });

  it('on Docker, stopped as the kubelet does: serves during the delay, SIGTERM after 5 s, exit 0 within the grace', async () => {
    await buildMyapp();
    await dockerOk(['tag', 'myapp', container.image]);
    const [entrypoint, ...flags] = container.command;
    await dockerOk([
      'run',
      '-d',
      '--name',
      'tsinit-guide-pod',
      '--entrypoint',
      entrypoint!,
      container.image,
      ...flags,
      ...container.args,
    ]);
    await waitLogs('tsinit-guide-pod', /app: serving/);
    // A client in the container, started before the stop: under load a `docker exec` can take
    // seconds to start, longer than the delay it is meant to look into.
    const client = spawn(
      '/usr/bin/docker',
      [
        'exec',
        '-i',
        'tsinit-guide-pod',
        'python3',
        '-u',
        '-c',
        'import sys, urllib.request\nfor _ in sys.stdin: print(urllib.request.urlopen("http://127.0.0.1:8000").read().decode(), end="")',
      ],
      { env: { ...process.env, DOCKER_HOST: HOST }, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const answer = (): Promise<string> =>
      new Promise((res) => client.stdout.once('data', (b: Buffer) => res(b.toString())));
    client.stdin.write('\n');
    expect(await answer()).toBe('hello\n'); // the client is ready
    const grace = pod.spec.terminationGracePeriodSeconds;
    const t0 = performance.now();
    const stopping = dockerOk(['stop', '-t', String(grace), 'tsinit-guide-pod'], { timeoutMs: (grace + 30) * 1000 });
    // Two seconds into the delay the app has not been told and still answers.
    await sleep(2000);
    const logs2s = (await docker(['logs', 'tsinit-guide-pod'])).stdout;
    const during = answer();
    client.stdin.write('\n');
    expect(await during).toBe('hello\n');
    const observedAt = (performance.now() - t0) / 1000;
    client.stdin.end();
    expect(logs2s).not.toContain('got SIGTERM');
    expect(observedAt, 'the request was answered inside the 5 s delay').toBeLessThan(4.9);
    await stopping;
    const elapsed = (performance.now() - t0) / 1000;
    const logs = await waitLogs('tsinit-guide-pod', /app: done/);
    expect(logs).toContain('app: got SIGTERM');
    expect(elapsed).toBeGreaterThanOrEqual(4.9);
    expect(elapsed).toBeLessThan(grace - 10);
    expect((await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'tsinit-guide-pod'])).stdout).toBe('0\n');
  }, 120_000);
});

describe('the Node build', () => {
  it("in the slim image as written: exit 127 with the guide's libatomic line, and ldd names libatomic alone", async () => {
    const [unpackLine, run] = lines('node-slim');
    const u = await sh(unpackLine!, { cwd: NODE_CTX });
    expect(u.code, u.stderr).toBe(0);
    const r = await sh(run!, { cwd: NODE_CTX });
    expect(r.code).toBe(127);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(snippet('error-libatomic'));
    const ldd = await sh(snippet('ldd-node').trim(), { cwd: NODE_CTX });
    expect(ldd.stdout).toMatch(/libatomic\.so\.1 => not found/);
    expect(ldd.stdout).toMatch(/libstdc\+\+\.so\.6 => \/\S+/);
    expect(ldd.stdout.match(/not found/g)).toHaveLength(1);
  }, 120_000);

  it("in busybox (no glibc loader): exit 1 and the guide's line; in node:26 it runs, as the guide says", async () => {
    const run = lines('node-slim')[1]!;
    expect(run).toContain(' debian:bookworm-slim ');
    // The interpreters the guide names, from the executables' program headers.
    expect(execFileSync('readelf', ['-l', resolve(RELEASE, 'tsinit-node-linux-x64')], { encoding: 'utf8' })).toContain(
      '[Requesting program interpreter: /lib64/ld-linux-x86-64.so.2]',
    );
    expect(
      execFileSync('readelf', ['-l', resolve(RELEASE, 'tsinit-node-linux-arm64')], { encoding: 'utf8' }),
    ).toContain('[Requesting program interpreter: /lib/ld-linux-aarch64.so.1]');
    const bb = await sh(run.replace(' debian:bookworm-slim ', ' busybox '), { cwd: NODE_CTX, merge: true });
    expect(bb.code).toBe(1);
    expect(bb.stdout).toBe(snippet('error-no-glibc'));
    const node = await sh(run.replace(' debian:bookworm-slim ', ' node:26-bookworm-slim '), { cwd: NODE_CTX });
    expect(node.code, node.stderr).toBe(0);
    expect(node.stdout).toBe(`tsinit version ${PKG.version} - node v${NODE_VERSION} linux-x64\n`);
    expect(README).toContain(`In \`node:26-bookworm-slim\` it runs (\`${node.stdout.trim()}\`)`);
  }, 120_000);
});

describe('the npm package @tsinit/node in a Node 26 image', () => {
  it('is about 14 kB packed (the bundle and package.json)', () => {
    const tgz = readdirSync(CTX).filter((f) => /^tsinit-.*\.tgz$/.test(f));
    expect(tgz).toEqual([`tsinit-node-${PKG.version}.tgz`]);
    const size = statSync(resolve(CTX, tgz[0]!)).size;
    expect(size).toBeGreaterThan(10_000);
    expect(size).toBeLessThan(40_000);
  });

  it("Dockerfile.node builds; tsinit is PID 1 on the image's node and stops the app cleanly", async () => {
    const b = await sh('docker build -f Dockerfile.node -t myapp-node .');
    expect(b.code, b.stderr).toBe(0);
    await dockerOk(['run', '-d', '--name', 'myapp-node', 'myapp-node']);
    await waitLogs('myapp-node', /app: serving/);
    const pid1 = (await dockerOk(['exec', 'myapp-node', 'cat', '/proc/1/cmdline'])).stdout.split('\0');
    expect(pid1.slice(0, 2)).toEqual(['node', '/usr/local/bin/tsinit']);
    const s = await dockerOk(['stop', 'myapp-node']);
    expect(s.ms).toBeLessThan(5000);
    expect((await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'myapp-node'])).stdout).toBe('0\n');
    expect(await waitLogs('myapp-node', /app: got SIGTERM/)).toMatch(/NODE_OPTIONS=\n/);
    await docker(['rm', '-f', 'myapp-node']);
  }, 300_000);

  it('NODE_OPTIONS after the --, as written, reaches the app and not tsinit', async () => {
    const r = await sh(snippet('node-options').trim());
    expect(r.code, r.stderr).toBe(0);
    const logs = await waitLogs('myapp-node', /app: serving/);
    expect(logs).toContain('NODE_OPTIONS=--max-old-space-size=256\n');
    const environ = (await dockerOk(['exec', 'myapp-node', 'cat', '/proc/1/environ'])).stdout;
    expect(environ).not.toContain('NODE_OPTIONS');
    await dockerOk(['stop', 'myapp-node']);
    expect((await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'myapp-node'])).stdout).toBe('0\n');
  }, 120_000);
});
