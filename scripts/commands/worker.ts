import type { Command } from 'commander';
import { runWorker } from '../../workers/worker';

export function registerWorkerCommand(program: Command) {
  program
    .command('worker')
    .description('Run a judgeflow Temporal worker (scale out by running more of them).')
    .action(() => runWorker());
}
