import { fork, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { BIN } from '../stack';
import type { StatusReadTimes, StatusReadsReply, StatusReadsRequest } from './status-reads';

export interface StatusProbeTarget {
  programId: string;
  runId: string;
  /** The environment the CLI and the reads' process need to reach the stack. */
  env: NodeJS.ProcessEnv;
}

/**
 * How the CLI is given the cores: as any process (waiting for cores the run keeps busy); at nice −10
 * over the run's processes; or at real-time priority (SCHED_FIFO, `chrt`), so that it never waits
 * for a core, as on a program manager's own machine while the run's system answers it.
 */
type CliPriority = 'normal' | 'nice' | 'realtime';

/**
 * The real `judge status` CLI, as a user on this machine runs it: wall and its own CPU seconds;
 * undefined where this user may not raise a priority (only root may).
 */
async function timeCli(
  target: StatusProbeTarget,
  priority: CliPriority,
  expectedExit = 0,
): Promise<{ wallS: number; cpuS: number } | undefined> {
  if (priority !== 'normal' && process.getuid?.() !== 0) return undefined;
  // The CLI prints its own CPU time as it exits: what it costs, apart from the time it waited for the cores.
  const wrapper = `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('cpu_s ' + (u.user + u.system) / 1e6 + '\\n'); });
process.argv = [process.argv[0], ${JSON.stringify(BIN)}, ...process.argv.slice(1)]; require(${JSON.stringify(BIN)});`;
  const argv = [
    process.execPath,
    '-e',
    wrapper,
    ...['judge', 'status', '--program', target.programId, '--run-id', target.runId, '--json'],
  ];
  const started = Date.now();
  const [command, ...args] = priority === 'realtime' ? ['chrt', '--fifo', '10', ...argv] : argv;
  const child = spawn(command, args, { env: target.env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (priority === 'nice') os.setPriority(child.pid!, -10);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject); // no chrt here
    child.once('exit', (code) => {
      const cpu = /cpu_s ([\d.]+)/.exec(stderr);
      if (code !== expectedExit || !cpu) reject(new Error(`judge status exited ${code}: ${stderr.trim()}`));
      else resolve({ wallS: (Date.now() - started) / 1000, cpuS: Number(cpu[1]) });
    });
  });
}

const summary = (values: number[], digits: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Number(v.toFixed(digits));
  return sorted.length
    ? { n: sorted.length, median: round(sorted[Math.floor(sorted.length / 2)]), max: round(sorted.at(-1)!) }
    : { n: 0 };
};

/** How long a probe waits for the reads' answer before it counts as failed (the run goes on). */
const READS_TIMEOUT_MS = 60_000;

/**
 * Its reads: a process of their own, loading the sources as the CLI does (bin/sources.js). Probes
 * may overlap (one slower than the probing interval): each reply carries its request's id.
 */
function statusReads(env: NodeJS.ProcessEnv) {
  const child = fork(path.join(__dirname, 'status-reads.ts'), [], {
    env,
    execArgv: ['-r', path.resolve(__dirname, '../../bin/sources.js')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  // Neither keeps the bench alive if it ends without closing it (a run that failed to start).
  child.unref();
  child.channel?.unref();
  /** Each request waiting for its reply: what settles it. */
  const waiting = new Map<number, (reply: StatusReadsReply) => void>();
  let nextId = 0;
  let exited: string | undefined;
  child.on('message', (reply: StatusReadsReply) => waiting.get(reply.id)?.(reply));
  child.once('exit', (code, signal) => {
    exited = `the status reads' process exited (${signal ?? code})`;
    for (const [id, settle] of waiting) settle({ id, error: exited });
  });
  return {
    time: (target: { programId: string; runId: string }) =>
      new Promise<StatusReadTimes>((resolve, reject) => {
        if (exited) return reject(new Error(exited));
        const id = nextId++;
        const timer = setTimeout(
          () => waiting.get(id)?.({ id, error: `no answer from the status reads in ${READS_TIMEOUT_MS / 1000} s` }),
          READS_TIMEOUT_MS,
        );
        timer.unref();
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          if ('error' in reply) reject(new Error(reply.error));
          else resolve(reply);
        });
        child.send({ ...target, id } satisfies StatusReadsRequest);
      }),
    close: () => child.connected && child.disconnect(),
  };
}

/** The CLI's turns, one per probe, and the name each one's figures go by in the results. */
const CLI_TURNS: CliPriority[] = ['normal', 'nice', 'realtime'];
const CLI_RESULT: Record<CliPriority, string> = { normal: 'cli', nice: 'prioritized_cli', realtime: 'realtime_cli' };

/**
 * Times, during a run, what `judge status` and `program status` read: from a connected client in a
 * process of its own (what answering takes, as from a program manager's machine) and, at each
 * probe, the real CLI on this machine (its start included), in turn on cores the run keeps busy, at
 * nice −10 and at real-time priority. The bench has no program workflow, so program status is timed
 * without its program query: the run's live query (the same worker answers both), the database's
 * figures, the run's verdicts and the look for retrying activities.
 */
export function statusProbe(target: StatusProbeTarget) {
  const judgeMs: number[] = [];
  const programMs: number[] = [];
  const cli: Record<CliPriority, { wallS: number; cpuS: number }[]> = { normal: [], nice: [], realtime: [] };
  let probes = 0;
  const reads = statusReads(target.env);
  let firstStartS: number | undefined;
  return {
    /**
     * The CLI's first start, before the run exists (it exits 2: no such run): it builds the status
     * commands' bundle (bin/cli-bundle.js), which a program manager's first status command does
     * once, so that the probes time the starts that follow.
     */
    async firstStart() {
      firstStartS = (await timeCli(target, 'normal', 2))!.wallS;
    },
    /** One probe; rejects with what failed (the bench logs it and goes on). */
    async probe(): Promise<Record<string, number>> {
      const times = await reads.time({ programId: target.programId, runId: target.runId });
      judgeMs.push(times.judgeStatusMs);
      programMs.push(times.programStatusMs);
      const priority = CLI_TURNS[probes++ % CLI_TURNS.length];
      const ran = await timeCli(target, priority);
      if (ran) cli[priority].push(ran);
      return {
        judge_status_ms: Math.round(times.judgeStatusMs),
        program_status_ms: Math.round(times.programStatusMs),
        ...(ran ? { [`${CLI_RESULT[priority]}_wall_s`]: ran.wallS } : {}),
      };
    },
    close: reads.close,
    summary: () => ({
      judge_status_cli_first_start_s: firstStartS,
      judge_status_answer_ms: summary(judgeMs, 0),
      program_status_answer_ms: summary(programMs, 0),
      ...Object.fromEntries(
        CLI_TURNS.flatMap((priority) => [
          [
            `judge_status_${CLI_RESULT[priority]}_wall_s`,
            summary(
              cli[priority].map((c) => c.wallS),
              2,
            ),
          ],
          [
            `judge_status_${CLI_RESULT[priority]}_cpu_s`,
            summary(
              cli[priority].map((c) => c.cpuS),
              2,
            ),
          ],
        ]),
      ),
    }),
  };
}
