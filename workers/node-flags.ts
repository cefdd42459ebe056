/**
 * Node flags for the processes that serve thousands of requests a second: the worker and the LLM
 * simulator. At 1,000 judge requests/s a worker allocates faster than Node 20's 16 MB young
 * generation holds, so short-lived objects (requests, answers, rows) were promoted and collected
 * again; 64 MB semi-spaces cut the worker's CPU per request by ~15% for ~100 MB more memory
 * (BENCHMARKS.md). V8 reads them only at start: on node's command line or in NODE_OPTIONS.
 */
export const THROUGHPUT_NODE_FLAGS = ['--max-semi-space-size=64'];

/** The flags of THROUGHPUT_NODE_FLAGS this process was started without (each by name: any value the operator chose stands). */
export function missingThroughputFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map((arg) => arg.split('=')[0].replaceAll('_', '-'));
  return THROUGHPUT_NODE_FLAGS.filter((flag) => !given.includes(flag.split('=')[0]));
}
