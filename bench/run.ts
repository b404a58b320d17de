/**
 * `npm run bench` — Beehive's benchmark. Starts its own local stack (ports
 * from BENCH_PORT_BASE, default 28787; fresh state in .beehive/bench) unless
 * BENCH_API=http://… names a running one, starts the relay ceiling, runs every
 * scenario with real WebSocket clients over loopback, writes
 * bench/results/latest.{json,md}, prints the table, and stops everything.
 *
 * Exits non-zero if any message was lost, duplicated or delivered out of
 * order, if a send failed, if a scenario failed, or if a process had to be
 * killed at the end. Every loop is bounded in count and time; the run keeps
 * to a budget (BENCH_BUDGET_S, default 540 s) and skips what no longer fits.
 *
 *   BENCH_QUICK=1          small counts (a smoke run of the harness, ~1–2 min)
 *   BENCH_ONLY=a,b         only these scenarios (ids below)
 *   BENCH_LOG=debug        the stack's logs on stderr
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Beehive } from './lib/beehive.ts';
import type { Ctx, Scale, Scenario } from './lib/context.ts';
import { workerdRoles } from './lib/direct.ts';
import { rssKb } from './lib/procs.ts';
import { WorkerInspector } from './lib/profiler.ts';
import { startRelay, type Relay } from './lib/relay.ts';
import { addCorrectness, emptyCorrectness, isClean, toMarkdown, type Results, type Section } from './lib/report.ts';
import { startStack, type StackHandle } from './lib/stack.ts';
import { BeehiveTarget, RelayTarget } from './lib/targets.ts';
import { now, withTimeout } from './lib/timing.ts';
import { groupFanout, FANOUT_RPC_LIMIT } from './scenarios/group-fanout.ts';
import { history } from './scenarios/history.ts';
import { idleConnections } from './scenarios/idle-connections.ts';
import { oneToOneLatency } from './scenarios/one-to-one-latency.ts';
import { oneToOneThroughput } from './scenarios/one-to-one-throughput.ts';
import { overhead } from './scenarios/overhead.ts';
import { parallelConversations } from './scenarios/parallel-conversations.ts';
import { profile } from './scenarios/profile.ts';
import { sendPath } from './scenarios/send-path.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');

const FULL: Scale = {
  overhead: { echo: 2000, records: 1_000_000 },
  latency: { warmup: 50, count: 500 },
  throughput: { window: 100, seconds: 10 },
  parallel: { levels: [1, 8, 64], window: 10, seconds: 8 },
  fanout: { sizes: [10, 100, 101, 500], messages: 20, warmup: 2 },
  history: { messages: 1100, pages: 200, listCalls: 200 },
  idle: { levels: [1000, 5000], users: 50, connectParallel: 100 },
  breakdown: { count: 300 },
};

const QUICK: Scale = {
  overhead: { echo: 200, records: 100_000 },
  latency: { warmup: 10, count: 100 },
  throughput: { window: 50, seconds: 3 },
  parallel: { levels: [1, 8], window: 10, seconds: 3 },
  fanout: { sizes: [10, 100, 101], messages: 5, warmup: 1 },
  history: { messages: 1060, pages: 30, listCalls: 30 },
  idle: { levels: [200, 500], users: 10, connectParallel: 50 },
  breakdown: { count: 50 },
};

/**
 * In running order. Idle sockets come first, while the workerd processes are
 * fresh (a heap grown by earlier load hides what sockets add to RSS); the
 * send-path breakdown uses figures of the scenarios before it.
 */
const SCENARIOS: Scenario[] = [overhead, idleConnections, oneToOneLatency, oneToOneThroughput, parallelConversations, groupFanout, history, sendPath, profile];

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const scale = quick ? QUICK : FULL;
const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const budgetMs = Number(env.BENCH_BUDGET_S ?? 540) * 1000;
// Below Linux's ephemeral range (32768–60999): a port in it can be taken at any moment as the
// local end of some outgoing connection, and the stack then fails to start with EADDRINUSE.
const portBase = Number(env.BENCH_PORT_BASE ?? 28787);
const started = now();
const elapsed = () => ((now() - started) / 1000).toFixed(1).padStart(6);
const log = (msg: string) => process.stderr.write(`[${elapsed()} s] ${msg}\n`);

/** The bench stack's extra vars: no per-user send limit in the way, no per-IP auth limits, QStash fan-out above 100 members. */
const EXTRA_VARS = {
  SEND_RATE_PER_SECOND: '100000',
  SEND_BURST: '100000',
  RATE_LIMITS: JSON.stringify({ login_ip: [1e6, 60], register_ip: [1e6, 60], send_code_ip: [1e6, 60], reset_ip: [1e6, 60], login_account: [1e6, 60] }),
  FANOUT_RPC_LIMIT: String(FANOUT_RPC_LIMIT),
};

async function machine(): Promise<Record<string, string>> {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  };
  const mem = sh('free', ['-h']).split('\n').find((l) => l.startsWith('Mem:'))?.split(/\s+/) ?? [];
  const version = async (pkg: string) => {
    try {
      return (JSON.parse(await readFile(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  return {
    nproc: sh('nproc', []),
    cpu: os.cpus()[0]?.model.trim() ?? '?',
    memory: mem.length ? `${mem[1]} total, ${mem[6]} available (free -h)` : `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    wrangler: await version('wrangler'),
    workerd: await version('@cloudflare/workerd-linux-64'),
    kernel: `${os.type()} ${os.release()}`,
  };
}

async function main(): Promise<number> {
  const results: Results = {
    startedAt: new Date().toISOString(),
    totalSeconds: 0,
    ok: false,
    failures: [],
    machine: await machine(),
    target: '',
    notes: [],
    correctness: emptyCorrectness(),
    sections: [],
  };
  let stack: StackHandle | undefined;
  let relay: Relay | undefined;
  let inspector: WorkerInspector | undefined;
  const write = async () => {
    results.totalSeconds = (now() - started) / 1000;
    await mkdir(RESULTS, { recursive: true });
    await writeFile(path.join(RESULTS, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
    await writeFile(path.join(RESULTS, 'latest.md'), toMarkdown(results));
  };
  // The last line of defence for the time limit: stop everything and report what there is.
  const watchdog = setTimeout(() => {
    results.failures.push(`watchdog: the run exceeded ${budgetMs / 1000 + 45} s`);
    void (async () => {
      await Promise.allSettled([relay?.stop(), stack?.stop()]);
      await write().catch(() => {});
      process.exit(1);
    })();
  }, budgetMs + 45_000);
  watchdog.unref();
  const onSignal = () => {
    log('interrupted: stopping the stack');
    void Promise.allSettled([relay?.stop(), stack?.stop()]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const relayPort = portBase + 20;
    if (env.BENCH_API) {
      log(`using the running stack at ${env.BENCH_API}`);
      relay = await startRelay(relayPort);
      results.target = `a running stack at ${env.BENCH_API} (its own settings: send limits and FANOUT_RPC_LIMIT as configured there)`;
    } else {
      const stateDir = path.join(ROOT, '.beehive', 'bench');
      log(`starting the local stack on ports ${portBase}… (state in ${path.relative(ROOT, stateDir)}) and the relay on ${relayPort}`);
      const [s, r] = await Promise.allSettled([startStack(portBase, stateDir, EXTRA_VARS, env.BENCH_LOG === 'debug'), startRelay(relayPort)]);
      if (s.status === 'fulfilled') stack = s.value;
      if (r.status === 'fulfilled') relay = r.value;
      if (s.status === 'rejected') throw s.reason;
      if (r.status === 'rejected') throw r.reason;
      results.target = `its own local stack (wrangler dev on 127.0.0.1:${portBase}, PGlite, emulated Redis/QStash; FANOUT_RPC_LIMIT=${FANOUT_RPC_LIMIT}, send limit off)`;
    }
    const api = env.BENCH_API ?? stack!.api;
    log(`stack ready (${api})`);
    // Opened now, before any load, and drained all along (see lib/profiler.ts).
    if (stack && (!only || only.has(profile.id))) {
      inspector = await WorkerInspector.connect(stack.info.inspectorPort).catch((err: Error) => {
        log(`no profile: ${err.message}`);
        return undefined;
      });
    }
    const beehive = new BeehiveTarget(new Beehive(api), log);
    const ctx: Ctx = {
      beehive,
      relay: new RelayTarget(relay!.url),
      relayPid: relay!.pid,
      stack: stack?.info,
      inspector,
      scale,
      facts: {},
      left: () => budgetMs - (now() - started),
      log,
    };
    if (quick) results.notes.push('BENCH_QUICK=1: small counts, a smoke run of the harness — not figures to quote.');
    results.notes.push(
      'All traffic is loopback on one machine: the harness, wrangler dev (two workerd processes: its proxy and the Worker), PGlite and the emulators share its cores.',
      'Groups are capped at 500 members (GROUP_MAX_MEMBERS); a 1,000-member group would need the cap raised.',
    );

    let hung: string | undefined;
    for (const scenario of SCENARIOS) {
      if (only && !only.has(scenario.id)) continue;
      const section: Section = { id: scenario.id, title: scenario.title, scale: '', rows: [] };
      results.sections.push(section);
      if (hung) {
        section.skipped = `${hung} did not finish in time and may still be running`;
        continue;
      }
      const need = scenario.estimateSeconds(scale) * 1000;
      if (ctx.left() < need) {
        section.skipped = `needs ~${Math.round(need / 1000)} s, ${Math.round(ctx.left() / 1000)} s left of the ${budgetMs / 1000} s budget`;
        log(`skipping ${scenario.title}: ${section.skipped}`);
        continue;
      }
      log(`▶ ${scenario.title}`);
      const t0 = now();
      try {
        await withTimeout(scenario.run(ctx, section), Math.max(need * 3, ctx.left()), scenario.id);
      } catch (err) {
        section.error = (err as Error).message;
        if (section.error.startsWith(`${scenario.id}: no answer within`)) hung = scenario.title;
        log(`✘ ${scenario.title}: ${section.error}`);
      }
      section.seconds = (now() - t0) / 1000;
      if (ctx.stack) section.after = workerdRoles(ctx).map(({ pid, role }) => `${role} ${Math.round(rssKb(pid) / 1024)} MiB`).join(', ');
      log(`  done in ${section.seconds.toFixed(1)} s`);
      await write();
    }
    if (beehive.registerMs) results.notes.push(`Setup not measured: registering ${beehive.pool.length} users took ${(beehive.registerMs / 1000).toFixed(1)} s (20 in parallel; scrypt in the Worker).`);
  } catch (err) {
    results.failures.push(`the run failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    log('stopping the relay and the stack…');
    inspector?.close();
    await relay?.stop();
    const killed = (await stack?.stop()) ?? [];
    if (killed.length) results.failures.push(`processes still running after the stack stopped (killed): ${killed.join(', ')}`);
  }

  for (const s of results.sections) {
    addCorrectness(results.correctness, s.correctness);
    addCorrectness(results.correctness, s.ceilingCorrectness);
    if (s.error) results.failures.push(`${s.title}: ${s.error}`);
  }
  if (!isClean(results.correctness)) results.failures.push('lost, duplicated, out-of-order or failed messages (see the correctness lines)');
  results.ok = results.failures.length === 0;
  await write();
  process.stdout.write('\n' + toMarkdown(results) + '\n');
  log(`${results.ok ? 'PASSED' : 'FAILED'} — results in ${path.relative(ROOT, RESULTS)}/latest.{json,md}`);
  clearTimeout(watchdog);
  return results.ok ? 0 : 1;
}

process.exit(await main());
