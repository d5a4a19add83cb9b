// The release's packages installed the ways their users install them, on real engines, with the
// guide's own snippets (docker/guides/README.md, "Packages"): the OCI image loaded into Docker
// (skopeo) and Podman (podman load); a Dockerfile with COPY --from=tsinit:VERSION that builds and
// stops cleanly; Podman's image mount running tsinit as PID 1 of an unchanged image; the guide's
// Pod under `podman kube play`; the .deb in the plain minbase image (dpkg -i, --version, man,
// dpkg -r). Engines: docker/engine.sh and docker/podman.sh (TSINIT_DOCKER_DIR, TSINIT_PODMAN_DIR).
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOk, docker, dockerOk, HOST, sleep, type Result } from '../docker/docker.ts';
import { podman } from '../podman/podman.ts';
import { ROOT } from '../helpers/pid1.ts';
import { DEBS, ensureRelease, NPM_TARBALLS, OCI_ARCHIVE, PKG, RELEASE } from './artifacts.ts';
import { guideSnippet } from './guide.ts';

const V = PKG.version;
const IMAGE = `tsinit:${V}`;
const STATIC = `tsinit version ${V} - duktape 2.7.0 musl static linux-x64\n`;
const scratch = mkdtempSync(resolve(tmpdir(), 'tsinit-engines-'));
const podmanOk = (args: readonly string[], timeoutMs = 120_000): Promise<Result> => cliOk(podman, args, { timeoutMs });
/** The guide's versions are the release's. */
const ofRelease = (text: string): string => text.replaceAll('0.1.0', V);

/** Polls f until it returns a value, for up to ms. */
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const pid1Comm = async (cli: (a: string[]) => Promise<Result>, name: string): Promise<string> =>
  until(`${name}'s PID 1`, async () => {
    const r = await cli(['exec', name, 'cat', '/proc/1/comm']);
    return r.code === 0 ? r.stdout : undefined;
  });

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('the packages suite needs root (docker/engine.sh, docker/podman.sh, apt-get)');
  ensureRelease();
  execFileSync(resolve(ROOT, '.ci/install'), ['release-test'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync(resolve(ROOT, 'docker/engine.sh'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 });
  execFileSync(resolve(ROOT, 'docker/podman.sh'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 });
  // The guide's base image: the plain minbase is what debian:bookworm-slim is made from.
  await dockerOk(['tag', 'tsinit-minbase', 'debian:bookworm-slim']);
  await podmanOk(['tag', 'localhost/tsinit-debian', 'localhost/debian:bookworm-slim']);
  for (const name of ['app', 'tsinit-copy-from', 'tsinit-npm']) await docker(['rm', '-f', name]);
  await podman.cli(['rm', '-f', '-t', '0', 'app']);
  await podman.cli(['pod', 'rm', '-f', '-t', '0', 'app']);
}, 900_000);
afterAll(async () => {
  await docker(['rm', '-f', 'tsinit-copy-from']);
  await docker(['rm', '-f', 'tsinit-npm']);
  await podman.cli(['rm', '-f', '-t', '0', 'app']);
  rmSync(scratch, { recursive: true, force: true });
});

describe('the OCI image in Docker', () => {
  it("the guide's skopeo line loads tsinit:VERSION; run alone it prints its version", async () => {
    await docker(['rmi', '-f', IMAGE]);
    const line = ofRelease(guideSnippet('image-load').split('\n')[1]!);
    expect(line).toMatch(/^skopeo copy oci-archive:tsinit-oci\.tar:/);
    // skopeo does not read DOCKER_HOST: the daemon's socket is named (the guide's user has the default one).
    execFileSync('sh', ['-c', line.replace('skopeo copy ', `skopeo copy --dest-daemon-host ${HOST} `)], {
      cwd: RELEASE,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    expect((await dockerOk(['run', '--rm', IMAGE])).stdout).toBe(STATIC);
    // The image is the executable and nothing else: its size is the file's.
    expect((await dockerOk(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}} {{.Size}}', IMAGE])).stdout).toBe(
      `linux/amd64 ${statSync(resolve(RELEASE, 'tsinit-linux-x64')).size}\n`,
    );
  });

  it("the guide's Dockerfile (COPY --from=tsinit:VERSION) builds; tsinit is PID 1 and docker stop takes well under a second, exit 143", async () => {
    const ctx = mkdtempSync(resolve(scratch, 'copy-from-'));
    writeFileSync(resolve(ctx, 'Dockerfile'), ofRelease(guideSnippet('Dockerfile.copy-from')));
    await dockerOk(['build', '-q', '-t', 'tsinit-copy-from', ctx], { timeoutMs: 300_000 });
    await dockerOk(['run', '-d', '--name', 'tsinit-copy-from', 'tsinit-copy-from']);
    expect(await pid1Comm((a) => docker(a), 'tsinit-copy-from')).toBe('tsinit\n');
    const stop = await dockerOk(['stop', 'tsinit-copy-from']);
    expect(stop.ms).toBeLessThan(2000);
    expect((await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'tsinit-copy-from'])).stdout).toBe('143\n');
  });
});

describe('the OCI image in Podman', () => {
  it('podman load names it localhost/tsinit:VERSION, as the guide shows', async () => {
    await podman.cli(['rmi', '-f', IMAGE]);
    const line = ofRelease(guideSnippet('image-load').split('\n')[0]!);
    const [cmd, comment] = line.split(/\s+# /);
    const r = await podmanOk(
      cmd!
        .trim()
        .split(/\s+/)
        .slice(1)
        .map((a) => (a === OCI_ARCHIVE ? resolve(RELEASE, a) : a)),
    );
    expect(r.stdout.trim().split('\n').at(-1)).toBe(comment);
  });

  it('--mount type=image runs /opt/tsinit/tsinit as PID 1 of the unchanged image; podman stop is prompt, exit 143', async () => {
    const snippet = ofRelease(guideSnippet('podman-image-mount'))
      .replace(/\\\n\s*/g, '')
      .trim();
    expect(snippet).toMatch(
      /^podman run -d --name app --mount type=image,source=tsinit:[^,]+,destination=\/opt\/tsinit --entrypoint \/opt\/tsinit\/tsinit debian:bookworm-slim -- sleep 100$/,
    );
    const args = snippet
      .split(/\s+/)
      .slice(1)
      .map((a) => (a === 'debian:bookworm-slim' ? 'localhost/debian:bookworm-slim' : a));
    await podmanOk(args);
    expect(await pid1Comm((a) => podman.cli(a), 'app')).toBe('tsinit\n');
    // The image is unchanged: no /opt/tsinit in it, and nothing but the mount added to the container.
    expect((await podman.cli(['run', '--rm', 'localhost/debian:bookworm-slim', 'ls', '/opt'])).stdout).toBe('');
    const stop = await podmanOk(['stop', 'app']);
    expect(stop.ms).toBeLessThan(3000);
    expect((await podmanOk(['inspect', '-f', '{{.State.ExitCode}}', 'app'])).stdout).toBe('143\n');
    await podmanOk(['rm', 'app']);
  });

  it("the guide's Pod: podman 4.3 kube play refuses an image volume with the line the guide quotes", async () => {
    const yaml = resolve(scratch, 'pod.yaml');
    writeFileSync(
      yaml,
      ofRelease(guideSnippet('pod-image-volume')).replace(
        'image: debian:bookworm-slim',
        'image: localhost/debian:bookworm-slim',
      ),
    );
    const r = await podman.cli(['kube', 'play', yaml]);
    expect((await podmanOk(['version', '-f', '{{.Client.Version}}'])).stdout).toMatch(/^4\.3\./);
    expect(r.code).toBe(125);
    const guide = readFileSync(resolve(ROOT, 'docker/guides/README.md'), 'utf8');
    const quoted = /refuses the\s+volume: `([^`]+)`/.exec(guide)![1]!.replace(/\s+/g, ' ');
    expect(r.stderr.trim()).toBe(`Error: ${quoted}`);
    await podman.cli(['pod', 'rm', '-f', '-t', '0', 'app']);
  });
});

describe('the npm package tsinit in a Node 20 image', () => {
  it("the guide's Dockerfile.npm installs it with Node 20's npm; PID 1 is the static tsinit, docker stop reaches the app, exit 0", async () => {
    // node:20-bookworm-slim's stand-in: the minbase with this machine's Node 20 and its npm.
    const standin = mkdtempSync(resolve(scratch, 'node20-'));
    copyFileSync('/usr/bin/node', resolve(standin, 'node'));
    cpSync(resolve(realpathSync('/usr/bin/npm'), '../..'), resolve(standin, 'npm'), { recursive: true });
    writeFileSync(
      resolve(standin, 'Dockerfile'),
      'FROM tsinit-minbase\nCOPY node /usr/local/bin/node\nCOPY npm /usr/local/lib/node_modules/npm\nRUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm\n',
    );
    await dockerOk(['build', '-q', '-t', 'node:20-bookworm-slim', standin], { timeoutMs: 300_000 });
    expect((await dockerOk(['run', '--rm', 'node:20-bookworm-slim', 'node', '--version'])).stdout).toMatch(/^v20\./);
    const ctx = mkdtempSync(resolve(scratch, 'npm-'));
    writeFileSync(resolve(ctx, 'Dockerfile'), ofRelease(guideSnippet('Dockerfile.npm')));
    copyFileSync(resolve(ROOT, 'docker/guides/server.js'), resolve(ctx, 'server.js'));
    for (const t of [NPM_TARBALLS.main, NPM_TARBALLS['linux-x64']]) copyFileSync(resolve(RELEASE, t), resolve(ctx, t));
    await dockerOk(['build', '-q', '-t', 'tsinit-npm', ctx], { timeoutMs: 300_000 });
    await dockerOk(['run', '-d', '--name', 'tsinit-npm', 'tsinit-npm']);
    expect(await pid1Comm((a) => docker(a), 'tsinit-npm')).toBe('tsinit\n');
    const file = await dockerOk([
      'exec',
      'tsinit-npm',
      'sh',
      '-c',
      'cmp "$(readlink -f "$(command -v tsinit)")" /usr/local/lib/node_modules/@tsinit/linux-x64/tsinit && echo SAME',
    ]);
    expect(file.stdout).toBe('SAME\n');
    await until('the app', async () =>
      (await docker(['logs', 'tsinit-npm'])).stdout.includes('app: serving') ? true : undefined,
    );
    const stop = await dockerOk(['stop', 'tsinit-npm']);
    expect(stop.ms).toBeLessThan(2000);
    expect((await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'tsinit-npm'])).stdout).toBe('0\n');
    expect((await dockerOk(['logs', 'tsinit-npm'])).stdout).toMatch(/app: got SIGTERM\n$/);
  }, 600_000);
});

describe('the .deb in the plain minbase image', () => {
  const run = (image: string, script: string): Promise<Result> =>
    docker(['run', '--rm', '-v', `${RELEASE}:/release:ro`, '--entrypoint', 'sh', image, '-c', script], {
      timeoutMs: 300_000,
    });
  const LIST = 'list() { find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -print | sort; }';

  it('dpkg -i, tsinit --version, dpkg -r: every file it added is gone again', async () => {
    const r = await run(
      'tsinit-minbase',
      [
        'set -e',
        LIST,
        'list >/dev/shm/before',
        `dpkg -i /release/${DEBS['linux-x64']} >/dev/null`,
        'command -v tsinit',
        'tsinit --version',
        'dpkg --verify tsinit',
        'dpkg -r tsinit >/dev/null',
        'list >/dev/shm/after',
        'diff /dev/shm/before /dev/shm/after && echo SAME',
        "dpkg-query -W -f '${Status}\\n' tsinit 2>&1 || true",
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`/usr/bin/tsinit\n${STATIC}SAME\ndpkg-query: no packages found matching tsinit\n`);
    expect(r.code).toBe(0);
  });

  it('with man-db installed, `man tsinit` shows the page', async () => {
    const ctx = mkdtempSync(resolve(scratch, 'man-'));
    writeFileSync(
      resolve(ctx, 'Dockerfile'),
      'FROM tsinit-minbase\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db >/dev/null && rm -rf /var/lib/apt/lists/*\n',
    );
    await dockerOk(['build', '-q', '--network', 'host', '-t', 'tsinit-minbase-man', ctx], { timeoutMs: 600_000 });
    const deb = guideSnippet('deb').trim().replace('tsinit_0.1.0_amd64.deb', `/release/${DEBS['linux-x64']}`);
    const r = await run('tsinit-minbase-man', `MANWIDTH=80 ${deb}`);
    expect(r.code, r.stderr).toBe(0);
    // After dpkg's own lines (man-db's trigger among them): the version, then the page.
    expect(r.stdout).toMatch(/^Processing triggers for man-db /m);
    expect(r.stdout).toContain(`\n${STATIC}TSINIT(1) `);
    expect(r.stdout).toMatch(
      /^TSINIT\(1\) +User Commands +TSINIT\(1\)\n\nNAME\n +tsinit +- +a +container +init +\(PID 1\)/m,
    );
    expect(r.stdout).toMatch(/\n +--drain DURATION\n/);
    expect(r.stdout).toMatch(/EXIT STATUS/);
  }, 600_000);
});
