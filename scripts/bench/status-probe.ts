import { fork, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { BIN } from '../stack';
import type { StatusReadTimes, StatusReadsReply } from './status-reads';

export interface StatusProbeTarget {
  programId: string;
  runId: string;
  /** The environment the CLI and the reads' process need to reach the stack. */
  env: NodeJS.ProcessEnv;
}

/**
 * The real `judge status` CLI, as a user on this machine runs it: wall and its own CPU seconds. With
 * `prioritized`, at nice −10 over the run's processes, so that its start does not wait for the cores
 * the run keeps busy, as on a program manager's own machine; undefined where this user may not raise
 * a priority (only root may).
 */
async function timeCli(
  target: StatusProbeTarget,
  prioritized = false,
): Promise<{ wallS: number; cpuS: number } | undefined> {
  // The CLI prints its own CPU time as it exits: what it costs, apart from the time it waited for the cores.
  const wrapper = `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('cpu_s ' + (u.user + u.system) / 1e6 + '\\n'); });
process.argv = [process.argv[0], ${JSON.stringify(BIN)}, ...process.argv.slice(1)]; require(${JSON.stringify(BIN)});`;
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['-e', wrapper, 'judge', 'status', '--program', target.programId, '--run-id', target.runId, '--json'],
    { env: target.env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (prioritized)
    try {
      os.setPriority(child.pid!, -10);
    } catch {
      child.kill();
      return undefined;
    }
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      const cpu = /cpu_s ([\d.]+)/.exec(stderr);
      if (code !== 0 || !cpu) reject(new Error(`judge status exited ${code}: ${stderr.trim()}`));
      else resolve({ wallS: (Date.now() - started) / 1000, cpuS: Number(cpu[1]) });
    }),
  );
}

const summary = (values: number[], digits: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Number(v.toFixed(digits));
  return sorted.length
    ? { n: sorted.length, median: round(sorted[Math.floor(sorted.length / 2)]), max: round(sorted.at(-1)!) }
    : { n: 0 };
};

/** Its reads: a process of their own, loading the sources as the CLI does (bin/sources.js). */
function statusReads(env: NodeJS.ProcessEnv) {
  const child = fork(path.join(__dirname, 'status-reads.ts'), [], {
    env,
    execArgv: ['-r', path.resolve(__dirname, '../../bin/sources.js')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  // Neither keeps the bench alive if it ends without closing it (a run that failed to start).
  child.unref();
  child.channel?.unref();
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `the status reads' process exited (${signal ?? code})`));
  return {
    time: (target: { programId: string; runId: string }) =>
      new Promise<StatusReadTimes>((resolve, reject) => {
        if (exited) return reject(new Error(exited));
        const onExit = () => reject(new Error(exited));
        child.once('exit', onExit);
        child.once('message', (reply: StatusReadsReply) => {
          child.off('exit', onExit);
          if ('error' in reply) reject(new Error(reply.error));
          else resolve(reply);
        });
        child.send(target);
      }),
    close: () => child.connected && child.disconnect(),
  };
}

/**
 * Times, during a run, what `judge status` and `program status` read: from a connected client in a
 * process of its own (what answering takes, as from a program manager's machine) and, every few
 * probes, the real CLI on this machine (its start included, on cores the run keeps busy, and given
 * priority over the run). The bench has no program workflow, so program status is timed without its
 * program query: the run's live query (the same worker answers both), the database's figures, the
 * run's verdicts and the look for retrying activities.
 */
export function statusProbe(target: StatusProbeTarget) {
  const judgeMs: number[] = [];
  const programMs: number[] = [];
  const cli: { wallS: number; cpuS: number }[] = [];
  const prioritizedCli: { wallS: number; cpuS: number }[] = [];
  let probes = 0;
  const reads = statusReads(target.env);
  return {
    /** One probe; rejects with what failed (the bench logs it and goes on). */
    async probe(): Promise<{
      judge_status_ms: number;
      program_status_ms: number;
      cli_wall_s?: number;
      prioritized_cli_wall_s?: number;
    }> {
      const times = await reads.time({ programId: target.programId, runId: target.runId });
      judgeMs.push(times.judgeStatusMs);
      programMs.push(times.programStatusMs);
      const turn = probes++ % 3;
      const ran = turn === 0 ? await timeCli(target) : undefined;
      if (ran) cli.push(ran);
      const prioritized = turn === 1 ? await timeCli(target, true) : undefined;
      if (prioritized) prioritizedCli.push(prioritized);
      return {
        judge_status_ms: Math.round(times.judgeStatusMs),
        program_status_ms: Math.round(times.programStatusMs),
        ...(ran ? { cli_wall_s: ran.wallS } : {}),
        ...(prioritized ? { prioritized_cli_wall_s: prioritized.wallS } : {}),
      };
    },
    close: reads.close,
    summary: () => ({
      judge_status_answer_ms: summary(judgeMs, 0),
      program_status_answer_ms: summary(programMs, 0),
      judge_status_cli_wall_s: summary(
        cli.map((c) => c.wallS),
        2,
      ),
      judge_status_cli_cpu_s: summary(
        cli.map((c) => c.cpuS),
        2,
      ),
      judge_status_prioritized_cli_wall_s: summary(
        prioritizedCli.map((c) => c.wallS),
        2,
      ),
      judge_status_prioritized_cli_cpu_s: summary(
        prioritizedCli.map((c) => c.cpuS),
        2,
      ),
    }),
  };
}
