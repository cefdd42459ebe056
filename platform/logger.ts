import pino from 'pino';

/** One pino logger per process; `component` names the process (worker, gateway, stack, sim-llm…). */
export function createLogger(component: string, level: string = process.env.LOG_LEVEL ?? 'info') {
  return pino({ name: component, level, base: { component } });
}

export type Logger = pino.Logger;
