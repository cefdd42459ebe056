/**
 * The `judgeflow` command. Each subcommand lives in scripts/commands/<name>.ts and registers itself
 * here; exit codes: 0 ok, 1 failure, 2 bad input or configuration (the message says what to fix).
 */
import { Command, CommanderError } from 'commander';
import { registerCatalogCommands } from './commands/catalog';
import { registerAggregateCommand } from './commands/aggregate';
import { registerAgreementCommand } from './commands/agreement';
import { registerDemoCommand } from './commands/demo';
import { registerDisagreementsCommand } from './commands/disagreements';
import { registerGatewayCommand } from './commands/gateway';
import { registerJudgeCommands } from './commands/judge';
import { registerJudgeRunCommand } from './commands/judge-run';
import { registerProgramCommands } from './commands/program';
import { registerRaterCommands } from './commands/rater';
import { registerReportCommand } from './commands/report';
import { registerSimCommands } from './commands/sim';
import { registerSimVendorCommand } from './commands/sim-vendor';
import { registerStackCommands } from './commands/stack';
import { registerValidateCommands } from './commands/validate';
import { registerVendorCommands } from './commands/vendor';
import { registerWorkerCommand } from './commands/worker';

export function buildCli(): Command {
  const program = new Command('judgeflow')
    .description('Durable orchestration for human-evaluation and LLM-as-a-judge programs, on Temporal.')
    .showHelpAfterError()
    .exitOverride();
  registerStackCommands(program);
  registerWorkerCommand(program);
  registerProgramCommands(program);
  registerDisagreementsCommand(program);
  registerDemoCommand(program);
  registerAgreementCommand(program);
  registerAggregateCommand(program);
  registerReportCommand(program);
  registerValidateCommands(program);
  registerCatalogCommands(program);
  registerJudgeCommands(program);
  registerJudgeRunCommand(program);
  registerGatewayCommand(program);
  registerSimCommands(program);
  registerSimVendorCommand(program);
  registerVendorCommands(program);
  registerRaterCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    throw err;
  }
}
