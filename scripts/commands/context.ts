/**
 * What CLI commands share: config, a database, a Temporal client for the configured stack, and who
 * is acting (the connection's identity, platform/identity.ts).
 */
import type { Client } from '@temporalio/client';
import { databaseUrl, loadConfig, type Config } from '../../platform/config';
import { connectDatabase, type Database } from '../../platform/db';
import { labelledActor, resolveIdentity, type Identity } from '../../platform/identity';
import { connectClient, temporalTarget } from '../../platform/temporal';

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
  identity: Identity;
  /** Who a change is recorded as: the identity, with the `--actor` label only for an unverified OS user. */
  actor(label?: string): string;
}

/** The identity the configured Temporal connection authenticates as (`judgeflow whoami`). */
export const cliIdentity = (config: Config): Identity => resolveIdentity(temporalTarget(config));

/** Opens what a command needs and closes it afterwards, whatever happens. */
export async function withContext<T>(
  fn: (ctx: CliContext) => Promise<T>,
  needs: { temporal?: boolean } = { temporal: true },
): Promise<T> {
  const config = loadConfig();
  // A traced command is the root of its trace: its workflow starts, updates and queries get spans.
  // require(), not import(): import() bypasses the CommonJS hook bin/judgeflow.js runs the sources through.
  const tracing = config.observability.tracing
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('../../platform/tracing') as typeof import('../../platform/tracing')).startTracing('judgeflow-cli')
    : undefined;
  const identity = cliIdentity(config);
  const actor = (label?: string) => {
    try {
      return labelledActor(identity, label);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  };
  // PostgreSQL and Temporal are reached at once (each is a round trip or more to wait for); the
  // first to fail is the error, and whichever did connect is closed.
  const connecting = connectDatabase(databaseUrl(config), { max: 4 });
  const connectingClient =
    needs.temporal === false
      ? undefined
      : connectClient(temporalTarget(config), tracing?.clientInterceptors, identity.actor);
  let database: Database;
  let client: Client | undefined;
  try {
    [database, client] = await Promise.all([connecting, connectingClient]);
  } catch (err) {
    void connecting.then((d) => d.close()).catch(() => undefined);
    void connectingClient?.then((c) => c.connection.close()).catch(() => undefined);
    await tracing?.shutdown();
    throw err;
  }
  try {
    return await fn({ config, database, client: client as Client, identity, actor });
  } finally {
    await client?.connection.close();
    await database.close();
    await tracing?.shutdown();
  }
}
