/**
 * Keeps the stack's services running. A service that exits while nobody is stopping it is announced
 * and started again after a backoff (1 s, 2 s, 4 s … up to 30 s), once the services it needs are up;
 * at STACK_RESTART_LIMIT failures within STACK_RESTART_WINDOW_SECONDS it gives up: everything is
 * stopped and `gaveUp` names the service and its log.
 */
import type { ChildProcess } from 'node:child_process';

export interface ServiceRun {
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface SupervisedService {
  name: string;
  logFile: string;
  /** Starts the service and resolves once it is ready; rejects (having cleaned up) if it cannot. */
  start(): Promise<ServiceRun>;
  /** Services that must be running before this one is restarted (a worker needs Temporal and PostgreSQL). */
  needs?: string[];
}

export interface GiveUp {
  service: string;
  logFile: string;
  message: string;
}

interface Entry {
  service: SupervisedService;
  run?: ServiceRun;
  /** When it failed, within the restart window. */
  failures: number[];
}

const MAX_BACKOFF_MS = 30_000;

export class Supervisor {
  readonly gaveUp: Promise<GiveUp>;
  private resolveGaveUp!: (giveUp: GiveUp) => void;
  private readonly entries = new Map<string, Entry>();
  private readonly sleepers = new Set<() => void>();
  private stopping = false;

  constructor(
    private readonly opts: {
      restartLimit: number;
      restartWindowMs: number;
      log: (line: string) => void;
      /** Called whenever a service (re)started: the stack rewrites its state file. */
      onChange: () => void;
    },
  ) {
    this.gaveUp = new Promise((resolve) => (this.resolveGaveUp = resolve));
  }

  /** Starts a service and watches it; a failure of this first start is the caller's to report. */
  async start(service: SupervisedService): Promise<void> {
    const entry: Entry = { service, failures: [] };
    this.entries.set(service.name, entry);
    this.watch(entry, await service.start());
  }

  /** The running services' process ids, by name. */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(
      [...this.entries].filter(([, e]) => e.run).map(([name, e]) => [name, e.run?.process.pid]),
    );
  }

  /** Stops every service, last started first; nothing is restarted afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of [...this.sleepers]) wake();
    for (const entry of [...this.entries.values()].reverse()) {
      const run = entry.run;
      entry.run = undefined;
      await run?.stop().catch((err) => this.opts.log(`! stopping ${entry.service.name} failed: ${String(err)}`));
    }
  }

  private watch(entry: Entry, run: ServiceRun) {
    entry.run = run;
    this.opts.onChange();
    run.process.once('exit', (code, signal) => {
      if (this.stopping || entry.run !== run) return;
      entry.run = undefined;
      void this.recover(entry, `exited (${signal ?? `code ${code}`})`);
    });
  }

  private async recover(entry: Entry, why: string): Promise<void> {
    const { name, logFile } = entry.service;
    const now = Date.now();
    entry.failures = [...entry.failures.filter((t) => now - t < this.opts.restartWindowMs), now];
    if (entry.failures.length >= this.opts.restartLimit) {
      const message =
        `${name} failed ${entry.failures.length} times within ${this.opts.restartWindowMs / 1000}s (last: ${why}); ` +
        `stopped the stack. Its log: ${logFile}`;
      this.opts.log(`✗ ${message}`);
      await this.stop();
      this.resolveGaveUp({ service: name, logFile, message });
      return;
    }
    const delayMs = Math.min(1000 * 2 ** (entry.failures.length - 1), MAX_BACKOFF_MS);
    this.opts.log(`! ${name} ${why}; restarting in ${delayMs / 1000}s (log: ${logFile})`);
    await this.sleep(delayMs);
    while (!this.stopping && (entry.service.needs ?? []).some((n) => this.entries.has(n) && !this.entries.get(n)?.run))
      await this.sleep(200);
    if (this.stopping) return;
    let run: ServiceRun;
    try {
      run = await entry.service.start();
    } catch (err) {
      return this.recover(entry, `did not restart: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (this.stopping) return run.stop();
    this.watch(entry, run); // first: whoever reads the announcement finds the new pid in the state file
    this.opts.log(`✓ ${name} restarted (pid ${run.process.pid})`);
  }

  /** A delay that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
