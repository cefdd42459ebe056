import type { Command } from 'commander';
import { runGateway } from '../../workers/gateway';

export function registerGatewayCommand(program: Command) {
  program
    .command('gateway')
    .description('Run the vendor gateway (signed task events from vendors) and its reconciler.')
    .action(() => runGateway());
}
