/** `judgeflow` run as a user runs it, for the tests of `stack up` (stack.test.ts, stack-supervision.test.ts). */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../bin/judgeflow.js');

export interface Run {
  stdout: string;
  code: number | null;
}

export interface RunningCli {
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves once the output matches (the whole output is in the error otherwise). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<Run>;
  /** Ctrl-C, and its exit. */
  stop(): Promise<Run>;
}

export function startCli(args: string[], env: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stdout += d));
  const exited = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ stdout, code })));
  return {
    output: () => stdout,
    exited,
    stop: () => (child.kill('SIGINT'), exited),
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => done(new Error(`no ${pattern} within ${timeoutMs / 1000}s:\n${stdout}`)),
          timeoutMs,
        );
        const check = () => pattern.test(stdout) && done();
        const done = (err?: Error) => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.stderr.off('data', check);
          if (err) reject(err);
          else resolve();
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        void exited.then((r) => done(new Error(`exited (${r.code}) before ${pattern}:\n${r.stdout}`)));
        check();
      }),
  };
}

/** Runs to the end; with untilReady, resolves once the stack printed READY (it is stopped if it never does). */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  untilReady = false,
): Promise<Run & { stop?: () => Promise<Run> }> {
  const cli = startCli(args, env);
  if (!untilReady) return cli.exited;
  try {
    await cli.waitFor(/READY/, 180_000);
  } catch (err) {
    await cli.stop();
    throw err;
  }
  return { stdout: cli.output(), code: null, stop: cli.stop };
}

export const processesUsing = (needle: string) =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'));

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
