/**
 * The `judgeflow` command. Each subcommand lives in scripts/commands/<name>.ts and registers itself
 * through COMMANDS; exit codes: 0 ok, 1 failure, 2 bad input or configuration (the message says what to fix).
 *
 * Only the module of the command being run is loaded: what command modules import (the Temporal
 * SDK, drizzle, the gateway) took seconds to load on a busy machine, and `judgeflow --help` needs
 * none of it (test/cli-loading.test.ts). They are require()d: bin/judgeflow.js runs the sources
 * through tsx's CommonJS hook, which import() bypasses (and tsx's ESM hook costs ~1 s to register).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { Command, CommanderError } from 'commander';

type Register = (cli: Command) => unknown;

/**
 * Each top-level command: its line in `judgeflow --help` and the modules that register it and its
 * subcommands (a module may add several, and several may add to one). A new command module goes here.
 */
export const COMMANDS: Record<string, { description: string; load: () => Register[] }> = {
  stack: {
    description: 'The embedded development stack.',
    load: () => [(require('./commands/stack') as typeof import('./commands/stack')).registerStackCommands],
  },
  worker: {
    description: 'Run a judgeflow Temporal worker (scale out by running more of them).',
    load: () => [(require('./commands/worker') as typeof import('./commands/worker')).registerWorkerCommand],
  },
  program: {
    description: 'Start and steer evaluation programs.',
    load: () => [
      (require('./commands/program') as typeof import('./commands/program')).registerProgramCommands,
      (require('./commands/disagreements') as typeof import('./commands/disagreements')).registerDisagreementsCommand,
    ],
  },
  guidelines: {
    description: 'Guideline (rubric) revisions.',
    load: () => [(require('./commands/program') as typeof import('./commands/program')).registerProgramCommands],
  },
  demo: {
    description: 'Run the example synopsis program end to end on the embedded stack and the simulated world.',
    load: () => [(require('./commands/demo') as typeof import('./commands/demo')).registerDemoCommand],
  },
  agreement: {
    description: 'Inter-rater agreement per criterion from a labels CSV (columns item, rater, label[, criterion])',
    load: () => [(require('./commands/agreement') as typeof import('./commands/agreement')).registerAgreementCommand],
  },
  aggregate: {
    description: "Aggregate raters' labels into one label per item (× criterion): majority vote or Dawid–Skene",
    load: () => [(require('./commands/aggregate') as typeof import('./commands/aggregate')).registerAggregateCommand],
  },
  report: {
    description:
      'Write the program report: self-contained HTML with inline SVG charts, or Markdown with the charts as SVG files beside it.',
    load: () => [(require('./commands/report') as typeof import('./commands/report')).registerReportCommand],
  },
  validate: {
    description: 'Validate judges against external evidence.',
    load: () => [(require('./commands/validate') as typeof import('./commands/validate')).registerValidateCommands],
  },
  catalog: {
    description: 'The catalog of shows and synopses.',
    load: () => [(require('./commands/catalog') as typeof import('./commands/catalog')).registerCatalogCommands],
  },
  judge: {
    description: 'LLM judges: evaluate, optimize, run.',
    load: () => [
      (require('./commands/judge') as typeof import('./commands/judge')).registerJudgeCommands,
      (require('./commands/judge-run') as typeof import('./commands/judge-run')).registerJudgeRunCommand,
      (require('./commands/judge-status') as typeof import('./commands/judge-status')).registerJudgeStatusCommand,
    ],
  },
  gateway: {
    description: 'Run the vendor gateway (signed task events from vendors) and its reconciler.',
    load: () => [(require('./commands/gateway') as typeof import('./commands/gateway')).registerGatewayCommand],
  },
  sim: {
    description: 'The SIMULATED world: catalog, LLM, vendor.',
    load: () => [
      (require('./commands/sim') as typeof import('./commands/sim')).registerSimCommands,
      (require('./commands/sim-vendor') as typeof import('./commands/sim-vendor')).registerSimVendorCommand,
    ],
  },
  vendor: {
    description: 'Vendors: their records and secrets, their scorecard.',
    load: () => [(require('./commands/vendor') as typeof import('./commands/vendor')).registerVendorCommands],
  },
  whoami: {
    description:
      "Who your changes are recorded as: the Temporal connection's API key or mTLS certificate, else the OS user (unverified).",
    load: () => [(require('./commands/whoami') as typeof import('./commands/whoami')).registerWhoamiCommand],
  },
  audit: {
    description: "A program's audit trail: who changed what, when, by which request, before and after.",
    load: () => [(require('./commands/audit') as typeof import('./commands/audit')).registerAuditCommand],
  },
  rater: {
    description: 'Rater QA: gold accuracy with intervals, drift, pauses and reinstatements.',
    load: () => [(require('./commands/rater') as typeof import('./commands/rater')).registerRaterCommands],
  },
};

/** The top-level command a command line runs: its first word that is not an option (`help <command>` names one too). */
function commandOf(argv: string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * The CLI for `argv`: the command it names with all its subcommands, or (none named, or an unknown
 * one) every command as a line of help. Without argv, every command in full.
 */
export function buildCli(argv?: string[]): Command {
  const program = new Command('judgeflow')
    .description('Durable orchestration for human-evaluation and LLM-as-a-judge programs, on Temporal.')
    .showHelpAfterError()
    .exitOverride();
  const named = argv && commandOf(argv);
  const chosen = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]] : undefined;
  if (argv && !chosen) {
    for (const [name, { description }] of Object.entries(COMMANDS)) program.command(name).description(description);
    return program;
  }
  const registered = new Set<Register>();
  for (const command of chosen ?? Object.values(COMMANDS))
    for (const register of command.load())
      if (!registered.has(register)) {
        registered.add(register);
        register(program);
      }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli(argv).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    throw err;
  }
}
