/**
 * The OpenTelemetry Node SDK, loaded only when tracing is on (start.ts imports this file then):
 * the OTLP/HTTP trace exporter (protobuf or JSON), the sampler named by OTEL_TRACES_SAMPLER,
 * and the http, koa and mongodb instrumentations. The services run as ES modules, so the
 * instrumentations see a module only through import-in-the-middle's loader hook, registered
 * here before the service's own modules are imported (each main.ts imports its service after
 * startTelemetry).
 */
import { register } from 'node:module';
import type { IncomingMessage } from 'node:http';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TelemetryConfig } from './config.js';

export type InstrumentationName = 'http' | 'koa' | 'mongodb';

/** Paths whose requests make no span: probes and scrapes would bury the traces that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/favicon.ico']);

export interface StartedSdk {
  shutdown(): Promise<void>;
}

export async function startSdk(
  config: TelemetryConfig,
  names: readonly InstrumentationName[],
  exportDelayMs: number,
): Promise<StartedSdk> {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const url = config.tracesUrl!;
  const exporter =
    config.protocol === 'http/json' ? new OtlpJsonExporter({ url }) : new OtlpProtobufExporter({ url });
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: exportDelayMs })],
    instrumentations: names.map(instrumentation),
    // Traces only: the metrics stay with prom-client (/metrics), logs with pino.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  // The loader must know every hooked module before the service imports them.
  await waitForAllMessagesAcknowledged();
  return { shutdown: () => sdk.shutdown() };
}

function instrumentation(name: InstrumentationName): Instrumentation {
  switch (name) {
    case 'http':
      return new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) =>
          UNTRACED_PATHS.has((req.url ?? '/').split('?')[0]!),
        // Outgoing requests only inside a trace (a webhook or http.request task run), never alone.
        requireParentforOutgoingSpans: true,
      });
    case 'koa':
      // Router layers only: a span per middleware would outnumber the spans that say something.
      return new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] });
    case 'mongodb':
      return new MongoDBInstrumentation({ enhancedDatabaseReporting: false });
  }
}

function samplerOf(config: TelemetryConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}
