// The load balancer of the rollout suite: Debian's HAProxy, one instance per run, bound to the
// loopback, with its config, log and admin socket in a folder of the run. The driver removes
// and adds endpoints only through the runtime API (`set server be/NAME state maint|ready`), as
// Kubernetes' endpoint controller does through kube-proxy. It never touches a system HAProxy.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';

const HAPROXY = '/usr/sbin/haproxy';

/** Installs Debian's haproxy when it is missing (root; apt retries while another holds the lock). */
export function ensureHaproxy(): void {
  if (existsSync(HAPROXY)) return;
  const apt = ['-o', 'DPkg::Lock::Timeout=300', '-qq'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', [...apt, 'update'], { stdio: 'inherit', env });
  execFileSync('apt-get', [...apt, 'install', '-y', '--no-install-recommends', 'haproxy'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  if (!existsSync(HAPROXY)) throw new Error(`apt-get install haproxy left no ${HAPROXY}`);
}

export interface Backend {
  name: string;
  port: number;
  ready: boolean;
}

/**
 * The config. Like a Kubernetes Service through kube-proxy: no health checks (endpoints come
 * from the control plane, here the driver), and no retries or redispatch, so a connection the
 * replica refuses is the client's error (kube-proxy DNATs the client's own connection; a
 * retrying proxy would hide the refusals for idempotent requests, never a reset mid-response).
 * Keep-alive on both sides (HAProxy's default), as clients and proxies keep connections.
 */
export function renderConfig(dir: string, port: number, backends: readonly Backend[]): string {
  return [
    'global',
    `  stats socket ${dir}/admin.sock mode 600 level admin`,
    '  log stdout format raw local0',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  retries 0',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 10s',
    'frontend fe',
    `  bind 127.0.0.1:${port}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port}${b.ready ? '' : ' disabled'}`),
    '',
  ].join('\n');
}

export class Haproxy {
  readonly port: number;
  readonly dir: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  private constructor(port: number, dir: string, child: ChildProcess) {
    this.port = port;
    this.dir = dir;
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  /** Writes the config under dir, checks it (`haproxy -c`), starts HAProxy in the foreground. */
  static async start(dir: string, port: number, backends: readonly Backend[]): Promise<Haproxy> {
    mkdirSync(dir, { recursive: true });
    const cfg = resolve(dir, 'haproxy.cfg');
    writeFileSync(cfg, renderConfig(dir, port, backends));
    execFileSync(HAPROXY, ['-c', '-q', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    // -db: foreground, no daemon; it dies with the run (stop() ends it by its pid).
    const child = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(resolve(dir, 'haproxy.log'));
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const h = new Haproxy(port, dir, child);
    const deadline = Date.now() + 10_000;
    while ((await h.admin('show info').catch(() => '')) === '') {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`haproxy did not start (config ${cfg}, log ${dir}/haproxy.log)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return h;
  }

  /** One runtime API command on the admin socket; resolves with HAProxy's answer. */
  admin(command: string): Promise<string> {
    return new Promise((res, rej) => {
      const s = connect(resolve(this.dir, 'admin.sock'));
      let out = '';
      s.setEncoding('utf8');
      s.on('connect', () => s.end(`${command}\n`));
      s.on('data', (d: string) => {
        out += d;
      });
      s.on('end', () => res(out));
      s.on('error', rej);
    });
  }

  /** Takes an endpoint out of rotation or puts it in; fails on any answer but the empty one. */
  async setState(server: string, state: 'ready' | 'maint'): Promise<void> {
    const answer = (await this.admin(`set server be/${server} state ${state}`)).trim();
    if (answer !== '') throw new Error(`haproxy: set server be/${server} state ${state}: ${answer}`);
  }

  /** The servers' states as HAProxy sees them (name → srv_admin_state, 0 = in rotation). */
  async states(): Promise<Record<string, number>> {
    const out = await this.admin('show servers state be');
    const rows = out
      .split('\n')
      .filter((l) => /^\d/.test(l))
      .map((l) => l.split(' '));
    // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
    return Object.fromEntries(rows.map((c) => [c[3]!, Number(c[6])]));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
