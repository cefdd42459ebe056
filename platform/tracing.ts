/**
 * OpenTelemetry tracing, off by default (JUDGEFLOW_TRACING, or an OTLP endpoint set: platform/config.ts).
 * One trace runs from the CLI's client call through the workflow, its activities and each LLM
 * request: Temporal's interceptors (@temporalio/interceptors-opentelemetry) carry the context in
 * workflow and activity headers, and the LLM client opens a span per request under the activity's.
 * Spans go to the OTLP/HTTP exporter, which reads the standard OTEL_* settings. Processes load this
 * module only when tracing is on, so the CLI pays nothing for it otherwise.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';

export interface Tracing {
  tracer: Tracer;
  /** For Temporal clients (the CLI's, the gateway's): workflow starts, signals, updates and queries get spans. */
  clientInterceptors: ClientInterceptors;
  /** For the worker: activity spans (children of the workflow's) and the sink that exports the workflow's spans. */
  worker: Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** Sends the spans still buffered (a CLI command's before it exits) and stops tracing. */
  shutdown(): Promise<void>;
}

/**
 * Registers this process's tracer provider (async context, W3C propagation) as OpenTelemetry's
 * global one. `spanProcessor` replaces the OTLP exporter (tests keep spans in memory).
 */
export function startTracing(serviceName: string, spanProcessor?: SpanProcessor): Tracing {
  const resource = new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME ?? serviceName });
  const processor = spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  const tracer = trace.getTracer('judgeflow');
  return {
    tracer,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    worker: {
      interceptors: {
        activity: [
          (ctx) => ({
            inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
            outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
      },
      sinks: { exporter: makeWorkflowExporter(processor, resource) },
    },
    shutdown: () => provider.shutdown(),
  };
}
