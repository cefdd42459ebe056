import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { waitForShutdownSignal } from '../../platform/signals';
import { DEFAULT_POOL } from '../sim/vendor/raters';
import { buildVendorSim } from '../sim/vendor/server';

const share = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
};
const count = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const nonNegative = (v: string) => {
  const n = Number(v);
  if (!(n >= 0)) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
};

/** `judgeflow sim vendor`: joins the `sim` command group (created here if it does not exist yet). */
export function registerSimVendorCommand(program: Command) {
  const sim =
    program.commands.find((c) => c.name() === 'sim') ??
    program.command('sim').description('The SIMULATED world: catalog, LLM, vendor.');
  sim
    .command('vendor')
    .description('Run the SIMULATED vendor: takes signed task dispatches, simulated raters answer through the gateway.')
    .option('--port <n>', 'listen port (default VENDOR_SIM_PORT)', count)
    .option('--vendor-id <id>', 'vendor id to post events as (default VENDOR_SIM_ID)')
    .option('--gateway <url>', 'gateway base URL (default GATEWAY_PUBLIC_URL)')
    .option('--latency-ms <ms>', 'mean task latency (default VENDOR_SIM_LATENCY_MS)', nonNegative)
    .option('--raters <n>', 'raters in the pool', count, DEFAULT_POOL.raters)
    .option('--seed <n>', 'seed', count, DEFAULT_POOL.seed)
    .option('--careless-share <p>', 'share of careless raters', share, DEFAULT_POOL.carelessShare)
    .option('--drifting-share <p>', 'share of drifting raters', share, DEFAULT_POOL.driftingShare)
    .option('--guideline-gain <p>', 'accuracy gained per guideline version', share, DEFAULT_POOL.guidelineGain)
    .option(
      '--fix-probability <p>',
      'probability a writer fixes each failing criterion',
      share,
      DEFAULT_POOL.fixProbability,
    )
    .option(
      '--locales <list>',
      'locales the raters rate in, e.g. en-US,es-ES (default: every rater, every locale)',
      (v) =>
        v
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
    )
    .option('--locale-accuracy <list>', "accuracy added for a locale's raters, e.g. es-ES=-0.05,fr-FR=0.02", (v) =>
      Object.fromEntries(
        v.split(',').map((pair) => {
          const [code, value] = pair.split('=');
          if (!code || !Number.isFinite(Number(value)))
            throw new InvalidArgumentError(`expected locale=number pairs, got "${pair}"`);
          return [code.trim(), Number(value)];
        }),
      ),
    )
    .option('--duplicate-rate <p>', 'share of events delivered twice', share, 0.02)
    .option('--no-show-rate <p>', 'share of tasks never done', share, 0.02)
    .option('--decline-rate <p>', 'share of tasks declined', share, 0.01)
    .action(async (o) => {
      const config = loadConfig();
      const secret = config.vendorSim.secret;
      if (!secret) {
        console.error(
          '[simulated vendor] VENDOR_SIM_SECRET is not set: set it to the whsec_… secret the program spec gives this vendor.',
        );
        process.exitCode = 2;
        return;
      }
      const logger = createLogger('sim-vendor', config.logLevel);
      const sim = buildVendorSim({
        vendorId: o.vendorId ?? config.vendorSim.id,
        secret,
        gatewayUrl: (o.gateway ?? config.gateway.publicUrl).replace(/\/$/, ''),
        latencyMs: o.latencyMs ?? config.vendorSim.latencyMs,
        seed: o.seed,
        raters: o.raters,
        carelessShare: o.carelessShare,
        driftingShare: o.driftingShare,
        guidelineGain: o.guidelineGain,
        fixProbability: o.fixProbability,
        locales: o.locales,
        localeAccuracy: o.localeAccuracy,
        duplicateRate: o.duplicateRate,
        noShowRate: o.noShowRate,
        declineRate: o.declineRate,
        logger,
      });
      const port = o.port ?? config.vendorSim.port;
      await sim.app.listen({ port, host: '127.0.0.1' });
      logger.info({ port, simulated: true }, `[simulated vendor] listening on http://127.0.0.1:${port}/v1/tasks`);
      await waitForShutdownSignal();
      await sim.app.close();
      logger.info({ stats: sim.stats, simulated: true }, '[simulated vendor] stopped');
    });
}
