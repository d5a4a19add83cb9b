// Kubernetes YAML through a real consumer: docker/guides/k8s-pod.yaml (tsinit as the entrypoint,
// --term-delay=5s, terminationGracePeriodSeconds: 35) and a Deployment of the same container
// (web-deployment.yaml) run with `podman kube play`, stopped with `podman pod stop -t` (what the
// kubelet does: TERM, KILL after the grace) and `podman kube down`. Asserts that the app serves
// through the delay, gets TERM from tsinit after it, and that the grace bounds the stop; and
// pins what Podman 4.3 does differently from Kubernetes, so a newer Podman shows up here.
import { execFile } from 'node:child_process';
import { cpSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cliOk, saveRows, sleep, type Row } from '../docker/docker.ts';
import { PODMAN_DIR, RESULTS_DIR, ULIMITS, podman } from './podman.ts';

const IMAGE = 'localhost/tsinit-web:1.0';
const GUIDE = readFileSync(resolve(ROOT, 'docker/guides/k8s-pod.yaml'), 'utf8');
const DEPLOYMENT = resolve(import.meta.dirname, 'web-deployment.yaml');
const DIR = resolve(PODMAN_DIR, 'kube');
const TERM_DELAY_S = 5;
const GRACE_S = 35;

const rows: Row[] = [];
const row = (step: string, command: string, seconds: number | null, exit: string, app: string, shows: string) =>
  rows.push({
    table: 'Kubernetes YAML through `podman kube play`',
    cells: {
      step,
      command: `\`${command}\``,
      'stop s': seconds === null ? '—' : seconds.toFixed(2),
      exit,
      app,
      'what it shows': shows,
    },
  });
const gaps: Row[] = [];
const gap = (field: string, kubernetes: string, podman43: string) =>
  gaps.push({
    table: 'What Podman 4.3 does not implement of these manifests (each asserted by test/podman/kube.test.ts)',
    cells: { field, Kubernetes: kubernetes, 'podman 4.3': podman43 },
  });

/** The guide's manifest with the one change a registry-less machine needs: the local image, never pulled. */
function localManifest(): string {
  const out = GUIDE.replace(
    /^( +)image: registry\.example\.com\/web:1\.0$/m,
    `$1image: ${IMAGE}\n$1imagePullPolicy: Never`,
  );
  if (out === GUIDE) throw new Error('docker/guides/k8s-pod.yaml has no `image: registry.example.com/web:1.0` line');
  return out;
}

/** The same without `ports:` (see the first test for why). */
function withoutPorts(manifest: string): string {
  return manifest.replace(/^ +ports:\n( +- containerPort: \d+\n)+/m, '');
}

function writeManifest(name: string, text: string): string {
  const file = resolve(DIR, name);
  writeFileSync(file, text);
  return file;
}

/** The app's log lines with the time each was written (`podman logs -t`), in ms since the epoch. */
async function timedLogs(container: string): Promise<{ t: number; line: string }[]> {
  const r = await cliOk(podman, ['logs', '-t', container]);
  return (r.stdout + r.stderr)
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^(\S+?)(\.\d{1,3})?\d*([+-]\d\d:\d\d|Z) (.*)$/.exec(l);
      if (!m) throw new Error(`unexpected podman logs -t line: ${l}`);
      return { t: Date.parse(`${m[1]}${m[2] ?? ''}${m[3]}`), line: m[4]! };
    });
}

/** The host pid of a container's PID 1. Read it before a stop: podman holds the container's
 * lock while it stops it, and other podman calls wait until the stop is over. */
async function hostPid(container: string): Promise<string> {
  return (await cliOk(podman, ['inspect', '-f', '{{.State.Pid}}', container])).stdout.trim();
}

// GETs the app every 200 ms until it stops answering; one line per GET: `<epoch s> ok|<error>`.
const POLL = `import time, urllib.request
end = time.time() + 60
while time.time() < end:
    t = time.time()
    try:
        urllib.request.urlopen("http://127.0.0.1:8000", timeout=2).read()
        print(f"{t:.3f} ok", flush=True)
    except Exception as e:
        print(f"{t:.3f} {type(e).__name__}", flush=True)
        break
    time.sleep(0.2)
`;

/** Polls the app from inside the network namespace of host pid until it stops answering (the
 * pod has only lo; podman exec is refused once a container is stopping, so the host enters the
 * namespace itself). Resolves with the time (ms since the epoch) of each answered GET. */
function pollFromPod(pid: string): Promise<{ answered: number[]; output: string }> {
  return new Promise((res) => {
    execFile(
      'nsenter',
      ['-t', pid, '-n', 'python3', '-c', POLL],
      { encoding: 'utf8', timeout: 90_000 },
      (_err, stdout, stderr) => {
        const answered = stdout
          .split('\n')
          .filter((l) => l.endsWith(' ok'))
          .map((l) => Number(l.split(' ')[0]) * 1000);
        res({ answered, output: stdout + stderr });
      },
    );
  });
}

/** podman's own events (events_logger=file) for a container since t0: [status, time, exit]. */
function events(container: string, t0: number): { status: string; t: number; exit?: number }[] {
  return readFileSync(resolve(PODMAN_DIR, 'events.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Name: string; Status: string; Time: string; ContainerExitCode?: number })
    .filter((e) => e.Name === container && Date.parse(e.Time) >= t0)
    .map((e) => ({ status: e.Status, t: Date.parse(e.Time), exit: e.ContainerExitCode }));
}

/** kube play (replacing what a previous test left), then waits until each container's app serves. */
async function play(file: string, ...containers: string[]): Promise<void> {
  await cliOk(podman, ['kube', 'play', '--replace', '--network', 'none', file], { timeoutMs: 120_000 });
  for (const c of containers) {
    // A deadline, not a wait: CI's 2 cores were seen to take over 30 s to start Python servers.
    const deadline = Date.now() + 120_000;
    while (!(await timedLogs(c)).some((l) => l.line === 'app: serving on :8000')) {
      if (Date.now() > deadline)
        throw new Error(`${c} never said 'app: serving on :8000':\n${(await podman.cli(['logs', c])).stdout}`);
      await sleep(200);
    }
  }
}

/** PID 1's command line in a container. */
async function pid1(container: string): Promise<string[]> {
  return (await cliOk(podman, ['exec', container, 'cat', '/proc/1/cmdline'])).stdout.split('\0').filter(Boolean);
}

/** `podman pod stop -t GRACE pods…`, timed from just before it starts; the kubelet's
 * TERM-then-KILL after the grace period. */
async function podStop(grace: number, ...pods: string[]): Promise<{ t0: number; seconds: number }> {
  const t0 = Date.now();
  const r = await cliOk(podman, ['pod', 'stop', '-t', String(grace), ...pods], { timeoutMs: (grace + 30) * 1000 });
  return { t0, seconds: r.ms / 1000 };
}

beforeAll(async () => {
  // The stand-in for registry.example.com/web:1.0: the Debian image, tsinit where the manifest
  // runs it, and the guide's app.
  const ctx = resolve(DIR, 'ctx');
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(ctx, { recursive: true });
  try {
    linkSync(resolve(ROOT, 'dist/tsinit'), resolve(ctx, 'tsinit'));
  } catch {
    cpSync(resolve(ROOT, 'dist/tsinit'), resolve(ctx, 'tsinit'));
  }
  cpSync(resolve(ROOT, 'docker/guides/app.py'), resolve(ctx, 'app.py'));
  writeFileSync(
    resolve(ctx, 'Containerfile'),
    'FROM localhost/tsinit-debian\nCOPY tsinit /usr/local/bin/tsinit\nCOPY app.py /app/app.py\n',
  );
  await cliOk(podman, ['build', '-q', ...ULIMITS, '-t', IMAGE, ctx], { timeoutMs: 300_000 });
  writeManifest('pod.yaml', localManifest());
  writeManifest('pod-noports.yaml', withoutPorts(localManifest()));
});

afterAll(async () => {
  for (const f of ['pod.yaml', 'pod-noports.yaml']) await podman.cli(['kube', 'down', resolve(DIR, f)]);
  await podman.cli(['kube', 'down', DEPLOYMENT]);
  saveRows('3-kube', [...rows, ...gaps], RESULTS_DIR);
});

describe('docker/guides/k8s-pod.yaml with podman kube play', { timeout: 300_000 }, () => {
  it("needs only the local image: the rest of the manifest is the guide's, byte for byte", () => {
    const changed = localManifest()
      .split('\n')
      .filter((l) => !GUIDE.split('\n').includes(l));
    expect(changed).toEqual([`      image: ${IMAGE}`, '      imagePullPolicy: Never']);
  });

  it('as written, it fails on a pod without a network: Podman 4.3 publishes containerPort on the host', async () => {
    const file = resolve(DIR, 'pod.yaml');
    const r = await podman.cli(['kube', 'play', '--network', 'none', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/PortMappings can only be used with Bridge or slirp4netns networking/);
    await podman.cli(['kube', 'down', file]);
    gap(
      '`ports: - containerPort: 8000` (no hostPort)',
      'informational: nothing is published',
      'published on the host as port 8000 (so `--network none` is refused: "PortMappings can only be used with Bridge or slirp4netns networking"); Podman 4.7 stopped doing this (containers/podman#19823; `--publish-all` brings it back). The tests drop `ports:`',
    );
  });

  it("without ports: tsinit is PID 1 with the manifest's command; terminationGracePeriodSeconds is ignored (stop timeout 10)", async () => {
    await play(resolve(DIR, 'pod-noports.yaml'), 'web-web');
    expect(await pid1('web-web')).toEqual([
      '/usr/local/bin/tsinit',
      '--term-delay=5s',
      '--kill-after=20s',
      '--drain=5s',
      '--',
      'python3',
      '/app/app.py',
    ]);
    const stopTimeout = Number(
      (await cliOk(podman, ['inspect', '-f', '{{.Config.StopTimeout}}', 'web-web'])).stdout.trim(),
    );
    expect(stopTimeout).toBe(10);
    gap(
      '`terminationGracePeriodSeconds: 35`',
      'TERM, then KILL after 35 s',
      `ignored: the container's stop timeout is Podman's default ${stopTimeout} s (supported from Podman 4.7, containers/podman#19914). Give the grace yourself: \`podman pod stop -t 35\``,
    );
  });

  it(`podman pod stop -t ${GRACE_S} (the grace, as the kubelet gives it): the app serves through the ${TERM_DELAY_S} s delay, then gets TERM from tsinit and exits 0`, async () => {
    await play(resolve(DIR, 'pod-noports.yaml'), 'web-web');
    const polling = pollFromPod(await hostPid('web-web'));
    await sleep(1000);
    const { t0, seconds } = await podStop(GRACE_S, 'web');
    const { answered, output } = await polling;
    const logs = await timedLogs('web-web');
    const term = logs.find((l) => l.line.startsWith('app: got SIGTERM'));
    expect(term, JSON.stringify(logs)).toBeDefined();
    expect(logs.map((l) => l.line)).toContain('app: done');
    // TERM reached the app after the delay (from the moment `pod stop` started), not before.
    const termAfterS = (term!.t - t0) / 1000;
    // The app answered during the delay: a GET made more than a second after the stop began,
    // and before tsinit passed the TERM on.
    expect(
      answered.some((t) => t > t0 + 1000 && t < term!.t),
      output,
    ).toBe(true);
    const lastAnswerS = (Math.max(...answered) - t0) / 1000;
    // t0 is taken before podman starts, so the lower bound is exact; the upper one allows for
    // podman's own start-up before it sends the TERM (seconds, on the loaded 2 cores).
    expect(termAfterS).toBeGreaterThanOrEqual(TERM_DELAY_S - 0.1);
    expect(termAfterS).toBeLessThan(TERM_DELAY_S + 5);
    expect(seconds).toBeLessThan(GRACE_S - 10);
    const exit = (await cliOk(podman, ['inspect', '-f', '{{.State.ExitCode}}', 'web-web'])).stdout.trim();
    expect(exit).toBe('0');
    row(
      'Pod, stopped with the grace',
      `podman pod stop -t ${GRACE_S} web`,
      seconds,
      exit,
      `answered GETs until ${lastAnswerS.toFixed(1)} s into the stop, got TERM at ${termAfterS.toFixed(2)} s, finished`,
      'tsinit holds TERM for --term-delay, then the app shuts down cleanly, well within the grace',
    );
  });

  it('the grace bounds the stop: with -t 3, shorter than the term delay, Podman SIGKILLs at 3 s and the app never gets TERM', async () => {
    await play(resolve(DIR, 'pod-noports.yaml'), 'web-web');
    const { t0, seconds } = await podStop(3, 'web');
    // When the container died, from podman's event log: not before the grace (t0 precedes
    // podman's start), and without the app ever hearing of the TERM (below) — killed inside
    // the delay. The upper bound allows for podman's start-up on loaded cores.
    const died = events('web-web', t0).find((e) => e.status === 'died');
    expect(died, JSON.stringify(events('web-web', t0))).toBeDefined();
    expect((died!.t - t0) / 1000).toBeGreaterThanOrEqual(2.9);
    expect((died!.t - t0) / 1000).toBeLessThan(3 + 5);
    const exit = (await cliOk(podman, ['inspect', '-f', '{{.State.ExitCode}}', 'web-web'])).stdout.trim();
    expect(exit).toBe('137');
    expect((await timedLogs('web-web')).map((l) => l.line)).not.toContain('app: got SIGTERM, finishing');
    row(
      'Pod, grace shorter than the delay',
      'podman pod stop -t 3 web',
      seconds,
      exit,
      `never got TERM: SIGKILLed ${((died!.t - t0) / 1000).toFixed(2)} s into the delay`,
      'the grace period, not tsinit, has the last word: keep it above term-delay + kill-after + drain',
    );
  });

  it('podman kube down alone SIGKILLs the app at once: no delay, no TERM (containers/podman#22397)', async () => {
    const file = resolve(DIR, 'pod-noports.yaml');
    await play(file, 'web-web');
    const t0 = Date.now();
    const down = await cliOk(podman, ['kube', 'down', file]);
    // The container and its logs are gone; Podman's event log keeps how it died.
    const died = events('web-web', t0).find((e) => e.status === 'died');
    expect(died, JSON.stringify(events('web-web', t0))).toBeDefined();
    expect(died!.exit).toBe(137);
    expect((died!.t - t0) / 1000).toBeLessThan(TERM_DELAY_S - 1);
    row(
      'Pod, `kube down` alone',
      'podman kube down pod.yaml',
      down.ms / 1000,
      String(died!.exit),
      "SIGKILLed at once (from podman's event log)",
      'Podman 4.3 removes the pod by force: stop it first',
    );
    gap(
      '`podman kube down` (≈ `kubectl delete`)',
      'TERM, the grace, then KILL',
      'KILL at once, whatever the stop timeout (containers/podman#22397, fixed by #22398 in 2024): run `podman pod stop -t <grace>` first',
    );
  });
});

describe('a Deployment (test/podman/web-deployment.yaml) with podman kube play', { timeout: 300_000 }, () => {
  it('replicas: 2 gives two pods, each with tsinit as PID 1; pod stop -t 35 stops both through the delay, exit 0', async () => {
    const containers = ['web-deployment-pod-0-web', 'web-deployment-pod-1-web'];
    await play(DEPLOYMENT, ...containers);
    const pods = (await cliOk(podman, ['pod', 'ps', '--filter', 'name=web-deployment', '--format', '{{.Name}}'])).stdout
      .trim()
      .split('\n')
      .sort();
    expect(pods).toEqual(['web-deployment-pod-0', 'web-deployment-pod-1']);
    for (const c of containers) expect((await pid1(c))[0]).toBe('/usr/local/bin/tsinit');
    const { t0, seconds } = await podStop(GRACE_S, ...pods);
    for (const c of containers) {
      const logs = await timedLogs(c);
      const term = logs.find((l) => l.line.startsWith('app: got SIGTERM'));
      expect(term, `${c}: ${JSON.stringify(logs)}`).toBeDefined();
      expect((term!.t - t0) / 1000).toBeGreaterThanOrEqual(TERM_DELAY_S - 0.1);
      expect(logs.map((l) => l.line)).toContain('app: done');
      expect((await cliOk(podman, ['inspect', '-f', '{{.State.ExitCode}}', c])).stdout.trim()).toBe('0');
    }
    expect(seconds).toBeLessThan(GRACE_S - 10);
    await cliOk(podman, ['kube', 'down', DEPLOYMENT]);
    row(
      'Deployment, 2 replicas',
      `podman pod stop -t ${GRACE_S} web-deployment-pod-0 web-deployment-pod-1`,
      seconds,
      '0, 0',
      'both got TERM after the delay and finished',
      'a Deployment becomes one pod per replica; the rest of spec (selector, strategy) has nothing to act on without a cluster',
    );
    gap(
      'Deployment `replicas`, `selector`, `strategy`',
      'a ReplicaSet keeps N pods, rolls updates',
      `${pods.length} pods made once (…-pod-0, …-pod-1); nothing restarts or replaces them`,
    );
  });
});
