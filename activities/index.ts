import type { ActivityDeps } from './deps';
import { createProductionActivities } from '../production/activities';
import { createProductionBatchActivities } from '../production/batch';
import { createProductionBudgetActivities } from '../production/budget';
import { createHumanTaskActivities } from '../human-tasks/activities';
import { createGuidelineActivities } from '../human-tasks/guidelines';
import { createJudgingActivities } from '../judging/activities';
import { createNotificationActivities } from '../notifications/deliver';
import { createProgramActivities } from '../program/activities';
import { createDisagreementActivities } from '../program/disagreements';
import { createSmokeActivities } from './smoke';
import { createWorkflowStartActivities } from './workflow-starts';

export type { ActivityDeps } from './deps';

/** Composes every activity group from its dependencies (the worker registers the result). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSmokeActivities(deps),
    ...createProgramActivities(deps),
    ...createDisagreementActivities(deps),
    ...createHumanTaskActivities(deps),
    ...createGuidelineActivities(deps),
    ...createProductionActivities(deps),
    ...createProductionBatchActivities(deps),
    ...createProductionBudgetActivities(deps),
    ...createJudgingActivities(deps),
    ...createNotificationActivities(deps),
    ...createWorkflowStartActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
