// npm run demo: dist/tsinit as PID 1 of a fresh pid namespace, on a workload that leaves
// orphans behind and then gets SIGTERM. Prints what happened. Needs root (unshare --pid).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const WORKLOAD = `
echo "workload: pid $$, making 5 orphans"
for i in 1 2 3 4 5; do sh -c 'sleep 0.2 &' ; done
trap 'echo "workload: got SIGTERM, cleaning up"; sleep 0.3; echo "workload: done"; exit 0' TERM
echo READY
while :; do sleep 0.1; done
`;

const init = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'dist/tsinit', '-vv', '--', 'bash', '-c', WORKLOAD], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
let err = '';
init.stdout.on('data', (d) => {
  out += d;
  process.stdout.write(d);
});
init.stderr.on('data', (d) => {
  err += d;
  process.stderr.write(d);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const giveUp = setTimeout(() => {
  console.error('demo: no result within 20 s; stopping');
  init.kill('SIGKILL');
  process.exit(1);
}, 20_000);
giveUp.unref();
while (!out.includes('READY')) {
  if (init.exitCode !== null) {
    console.error(`demo: tsinit exited early with ${init.exitCode}`);
    process.exit(1);
  }
  await sleep(20);
}
await sleep(600); // the orphans (sleep 0.2) have ended and been reaped by now
const u = init.pid;
const tsinitPid = Number(readFileSync(`/proc/${u}/task/${u}/children`, 'utf8').trim());
console.log(`demo: sending SIGTERM to tsinit (host pid ${tsinitPid}, PID 1 inside)`);
process.kill(tsinitPid, 'SIGTERM');
const code = await new Promise((r) => init.on('close', r));

const reaped = (err.match(/reaped pid/g) ?? []).length;
console.log('\ndemo summary');
console.log(`  orphans reaped by tsinit:     ${reaped} of 5`);
console.log(`  SIGTERM reached the workload: ${out.includes('got SIGTERM') ? 'yes' : 'NO'}`);
console.log(`  workload finished cleanly:    ${out.includes('workload: done') ? 'yes' : 'NO'}`);
console.log(`  tsinit exit code:             ${code} (the workload's own)`);
process.exitCode = reaped === 5 && out.includes('workload: done') && code === 0 ? 0 : 1;
