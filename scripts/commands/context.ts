/** What CLI commands share: config, a database and a Temporal client for the configured stack. */
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../../platform/config';
import { connectDatabase, type Database } from '../../platform/db';
import { connectClient, temporalTarget } from '../../platform/temporal';
import { databaseUrl } from '../stack';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export interface CliContext {
  config: Config;
  database: Database;
  client: Client;
}

/** Opens what a command needs and closes it afterwards, whatever happens. */
export async function withContext<T>(
  fn: (ctx: CliContext) => Promise<T>,
  needs: { temporal?: boolean } = { temporal: true },
): Promise<T> {
  const config = loadConfig();
  const database = await connectDatabase(databaseUrl(config), { max: 4 });
  let client: Client | undefined;
  // A traced command is the root of its trace: its workflow starts, updates and queries get spans.
  const tracing = config.observability.tracing
    ? (await import('../../platform/tracing')).startTracing('judgeflow-cli')
    : undefined;
  try {
    if (needs.temporal !== false) client = await connectClient(temporalTarget(config), tracing?.clientInterceptors);
    return await fn({ config, database, client: client as Client });
  } finally {
    await client?.connection.close();
    await database.close();
    await tracing?.shutdown();
  }
}
