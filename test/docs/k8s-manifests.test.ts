// Every Kubernetes manifest in docker/guides is valid Kubernetes YAML and says what the guide
// says. Three checks, offline: the `yaml` parser (errors and warnings fail); the API schemas
// compiled into kubernetes-models (types, formats, required fields); TypeScript's excess
// property check against kubernetes-models' interfaces (a misspelt field, which the schemas
// let through, fails tsc). Then the guide's rules: tsinit as it parses the command, a hold
// past P (tsinit --term-delay, or the kubelet's own preStop.sleep; never an exec hook that needs
// a shell or a sleep binary), the grace period, readiness probes, Services that select their
// Deployment.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseCli } from '../../src/core/cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const GUIDES = resolve(ROOT, 'docker/guides');
const FILES = readdirSync(GUIDES)
  .filter((f) => /^k8s-.*\.yaml$/.test(f))
  .sort();
const TMP = resolve(ROOT, '.tmp', `k8s-${process.pid}`);
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

type Doc = { apiVersion: string; kind: string } & Record<string, unknown>;

/** Every document of a YAML text; a parse error or warning throws. */
function parseDocs(text: string, file: string): Doc[] {
  return parseAllDocuments(text).map((d, i) => {
    const problems = [...d.errors, ...d.warnings];
    if (problems.length > 0) throw new Error(`${file} document ${i}: ${problems.map((p) => p.message).join('; ')}`);
    return d.toJS() as Doc;
  });
}

/** The kubernetes-models class for a document, which validates it against the API schema. */
const MODELS: Record<string, { type: string; make: (d: Doc) => { validate(): void } }> = {
  'apps/v1 Deployment': {
    type: 'import("kubernetes-models/apps/v1/Deployment").IDeployment',
    make: (d) => new Deployment(d as unknown as IDeployment),
  },
  'v1 Service': {
    type: 'import("kubernetes-models/v1/Service").IService',
    make: (d) => new Service(d as unknown as IService),
  },
  'v1 Pod': { type: 'import("kubernetes-models/v1/Pod").IPod', make: (d) => new Pod(d as never) },
};

/** Type-checks each document as an object literal of its interface; returns tsc's output ('' when clean). */
function excessFields(docs: { name: string; doc: Doc }[]): string {
  mkdirSync(TMP, { recursive: true });
  const src = docs
    .map(
      ({ doc }, i) => `export const m${i}: ${MODELS[`${doc.apiVersion} ${doc.kind}`]!.type} = ${JSON.stringify(doc)};`,
    )
    .join('\n');
  writeFileSync(resolve(TMP, 'manifests.ts'), src + '\n');
  try {
    execFileSync(
      resolve(ROOT, 'node_modules/.bin/tsc'),
      [
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        resolve(TMP, 'manifests.ts'),
      ],
      { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' },
    );
    return '';
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? String(e);
    // Name the document: mN in tsc's output is docs[N].
    return out.replace(/\bm(\d+)\b/g, (_, n: string) => docs[Number(n)]!.name);
  }
}

const ALL = FILES.flatMap((file) =>
  parseDocs(readFileSync(resolve(GUIDES, file), 'utf8'), file).map((doc, i) => ({ name: `${file}#${i}`, file, doc })),
);

describe('the Kubernetes manifests in docker/guides', () => {
  it('are the ones the guide shows', () => {
    expect(FILES).toEqual(['k8s-gunicorn.yaml', 'k8s-pod.yaml', 'k8s-uvicorn-prestop-sleep.yaml', 'k8s-uvicorn.yaml']);
  });

  it.each(ALL.map((x) => [x.name, x] as const))('%s is a known kind that passes the API schema', (_, { doc }) => {
    const model = MODELS[`${doc.apiVersion} ${doc.kind}`];
    expect(model, `${doc.apiVersion} ${doc.kind}`).toBeDefined();
    model!.make(doc).validate();
  });

  // Two tsc runs over kubernetes-models' declarations: ~5 s of CPU each.
  it(
    'have no field the API does not know (tsc, excess property check), and the check catches one',
    { timeout: 180_000 },
    () => {
      expect(excessFields(ALL)).toBe('');
      // The check can fail: a misspelt field, which the JSON schemas accept.
      const dep = structuredClone(ALL.find((x) => x.doc.kind === 'Deployment')!.doc) as unknown as IDeployment;
      (dep.spec!.template.spec as unknown as Record<string, unknown>).terminationGracePeriodSecond = 35;
      new Deployment(dep).validate();
      expect(excessFields([{ name: 'misspelt', doc: dep as unknown as Doc }])).toMatch(/terminationGracePeriodSecond/);
      // And the schema check fails on a wrong type.
      const bad = structuredClone(dep);
      bad.spec!.template.spec!.containers[0]!.ports![0]!.containerPort = '8000' as unknown as number;
      expect(() => new Deployment(bad).validate()).toThrow(/containerPort/);
    },
  );

  const deployments = ALL.filter((x) => x.doc.kind === 'Deployment');
  it.each(deployments.map((x) => [x.file, x] as const))(
    "%s: tsinit, one hold past P (--term-delay or the kubelet's preStop.sleep), a readiness probe, a grace period that covers the shutdown",
    (file, { doc }) => {
      const d = doc as unknown as IDeployment;
      const pod = d.spec!.template.spec!;
      const c = pod.containers[0]!;
      // No exec (or httpGet) preStop hook: the only one allowed is the kubelet's sleep.
      expect(
        Object.keys(c.lifecycle?.preStop ?? {}).filter((k) => k !== 'sleep'),
        'a preStop hook other than sleep',
      ).toEqual([]);
      expect(c.command![0]).toMatch(/\/tsinit$/);
      // The kubelet runs command + args; tsinit reads its options up to `--`.
      const parsed = parseCli([...c.command!.slice(1), ...(c.args ?? [])], {});
      if (parsed.kind !== 'run') throw new Error(`tsinit rejects ${file}'s command: ${JSON.stringify(parsed)}`);
      const { termDelayMs, killAfterMs, drainMs, singleChild, command } = parsed.config;
      expect(command).toEqual(c.args);
      // One hold, not two: --term-delay, or the kubelet's sleep before it sends SIGTERM.
      const preStopSleepMs =
        c.lifecycle?.preStop?.sleep === undefined ? null : c.lifecycle.preStop.sleep.seconds * 1000;
      expect(
        [termDelayMs, preStopSleepMs].filter((x) => x !== null),
        'exactly one of --term-delay and preStop.sleep',
      ).toHaveLength(1);
      const holdMs = (termDelayMs ?? preStopSleepMs)!;
      expect(holdMs).toBeGreaterThanOrEqual(3000);
      // Uvicorn >= 0.29 exits 143 after a clean stop (it re-raises the TERM): the guide maps it to 0.
      if (c.args?.[0] === 'uvicorn') expect([...parsed.config.remapExit]).toEqual([143]);
      // The server's own bound: Gunicorn's --graceful-timeout, else tsinit's --kill-after.
      const args = c.args ?? [];
      const gi = args.indexOf('--graceful-timeout');
      const serverBoundMs = gi >= 0 ? Number(args[gi + 1]) * 1000 : killAfterMs;
      expect(serverBoundMs, "a bound on the server's own shutdown").not.toBeNull();
      if (args[0] === 'gunicorn') expect(singleChild, 'gunicorn: -c, the master manages its workers').toBe(true);
      const grace = pod.terminationGracePeriodSeconds! * 1000;
      expect(grace).toBeGreaterThanOrEqual(holdMs + serverBoundMs! + drainMs + 5000);
      expect(c.readinessProbe?.httpGet?.port).toBe(c.ports![0]!.name);
      expect(d.spec!.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
      // Its Service selects these pods and sends to the named port.
      const svc = ALL.find((x) => x.file === file && x.doc.kind === 'Service')?.doc as unknown as IService | undefined;
      expect(svc, `${file} has a Service`).toBeDefined();
      expect(svc!.spec!.selector).toEqual(d.spec!.template.metadata!.labels);
      expect(d.spec!.selector.matchLabels).toEqual(d.spec!.template.metadata!.labels);
      expect(svc!.spec!.ports![0]!.targetPort).toBe(c.ports![0]!.name);
    },
  );
});
