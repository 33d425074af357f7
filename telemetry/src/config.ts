/**
 * The tracing settings each service's config.ts reads from the standard OTEL_* variables
 * (docs/observability.md). Each service declares the variables in its own schema (so that
 * scripts/check-compose-env.ts sees them) and turns the values into a TelemetryConfig here.
 */

/** The OTLP/HTTP encodings this build exports with (gRPC is not included). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** The samplers of the OpenTelemetry specification that OTEL_TRACES_SAMPLER may name. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

export interface TelemetryConfig {
  /** False when no OTLP endpoint is set (or OTEL_SDK_DISABLED=true): the SDK is not even loaded. */
  enabled: boolean;
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces. */
  tracesUrl: string | null;
  protocol: OtlpProtocol;
  serviceName: string;
  sampler: TraceSampler;
  /** The ratio of the traceidratio samplers (0..1). */
  samplerRatio: number;
  /** Longest time a finished span waits to be exported (OTEL_BSP_SCHEDULE_DELAY). */
  exportDelayMs: number;
}

/** The variables' values as the service's envReader returned them (defaults applied). */
export interface TelemetryEnv {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | number | boolean | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | number | boolean | undefined;
  OTEL_EXPORTER_OTLP_PROTOCOL?: string | number | boolean | undefined;
  OTEL_SERVICE_NAME?: string | number | boolean | undefined;
  OTEL_TRACES_SAMPLER?: string | number | boolean | undefined;
  OTEL_TRACES_SAMPLER_ARG?: string | number | boolean | undefined;
  OTEL_SDK_DISABLED?: string | number | boolean | undefined;
  OTEL_BSP_SCHEDULE_DELAY?: string | number | boolean | undefined;
}

export function telemetryConfig(v: TelemetryEnv, defaultServiceName: string): Readonly<TelemetryConfig> {
  const base = typeof v.OTEL_EXPORTER_OTLP_ENDPOINT === 'string' ? v.OTEL_EXPORTER_OTLP_ENDPOINT : null;
  const traces =
    typeof v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT === 'string' ? v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT : null;
  // The specification: the signal's own variable is used as is, the general one gets the signal's path.
  const tracesUrl = traces ?? (base === null ? null : `${base.replace(/\/+$/, '')}/v1/traces`);
  return Object.freeze({
    enabled: tracesUrl !== null && v.OTEL_SDK_DISABLED !== true,
    tracesUrl,
    protocol: (v.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf') as OtlpProtocol,
    serviceName: typeof v.OTEL_SERVICE_NAME === 'string' ? v.OTEL_SERVICE_NAME : defaultServiceName,
    sampler: (v.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on') as TraceSampler,
    samplerRatio: typeof v.OTEL_TRACES_SAMPLER_ARG === 'number' ? v.OTEL_TRACES_SAMPLER_ARG : 1,
    exportDelayMs: typeof v.OTEL_BSP_SCHEDULE_DELAY === 'number' ? v.OTEL_BSP_SCHEDULE_DELAY : 1_000,
  });
}
