// Every workflow the judgeflow worker runs. Deterministic code only: no Node APIs, no I/O.
export { smokeWorkflow } from './smoke';
export { humanTasksWorkflow } from './human-tasks';
export { productionWorkflow } from './production';
export { productionShardWorkflow } from './production-shard';
export { fixLoopWorkflow } from './fix-loop';
export { prelaunchWorkflow } from './prelaunch';
export { promptOptimizationWorkflow } from './prompt-optimization';
export { programWorkflow } from './program';
export { pilotWorkflow } from './pilot';
export { calibrationRoundWorkflow } from './calibration';
export { goldenSetWorkflow } from './golden-set';
export { judgeDevelopmentWorkflow } from './judge-development';
export { notifyWorkflow } from './notify';
