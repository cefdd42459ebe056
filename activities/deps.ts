import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';

/** What activities may touch. Tests build it against the real stack; nothing here is global. */
export interface ActivityDeps {
  db: Db;
  config: Config;
  logger: Logger;
}
