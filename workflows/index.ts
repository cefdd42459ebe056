// Every workflow the judgeflow worker runs. Deterministic code only: no Node APIs, no I/O.
export { smokeWorkflow } from './smoke';
