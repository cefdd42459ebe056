import type { ActivityDeps } from './deps';
import { createProductionActivities } from './production';
import { createProductionBatchActivities } from './production-batch';
import { createHumanTaskActivities } from './human-tasks';
import { createJudgeActivities } from './judges';
import { createProgramActivities } from './program';
import { createSmokeActivities } from './smoke';

export type { ActivityDeps } from './deps';

/** Composes every activity group from its dependencies (the worker registers the result). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSmokeActivities(deps),
    ...createProgramActivities(deps),
    ...createHumanTaskActivities(deps),
    ...createProductionActivities(deps),
    ...createProductionBatchActivities(deps),
    ...createJudgeActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
