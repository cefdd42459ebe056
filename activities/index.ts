import type { ActivityDeps } from './deps';
import { createSmokeActivities } from './smoke';

export type { ActivityDeps } from './deps';

/** Composes every activity group from its dependencies (the worker registers the result). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSmokeActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
