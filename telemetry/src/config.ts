/**
 * The tracing settings each service's config.ts reads from the standard OTEL_* variables
 * (docs/observability.md): each service spreads telemetryEnvSchema into its config schema and
 * turns the values into a TelemetryConfig here.
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

/**
 * The standard OTEL_* variables as JSON Schema entries, for each service to spread into its own
 * config schema (its envReader then types the values as TelemetryEnv).
 */
export function telemetryEnvSchema<Name extends string>(defaultServiceName: Name) {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: { type: 'string', pattern: '^https?://' },
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { type: 'string', pattern: '^https?://' },
    OTEL_EXPORTER_OTLP_PROTOCOL: { enum: OTLP_PROTOCOLS, default: 'http/protobuf' },
    OTEL_SERVICE_NAME: { type: 'string', minLength: 1, default: defaultServiceName },
    OTEL_TRACES_SAMPLER: { enum: TRACE_SAMPLERS, default: 'parentbased_always_on' },
    OTEL_TRACES_SAMPLER_ARG: { type: 'number', minimum: 0, maximum: 1, default: 1 },
    OTEL_SDK_DISABLED: { type: 'boolean', default: false },
    OTEL_BSP_SCHEDULE_DELAY: { type: 'integer', minimum: 10, maximum: 60_000, default: 1_000 },
  } as const;
}

/** The variables' values as the service's envReader returned them (defaults applied). */
export interface TelemetryEnv {
  readonly OTEL_EXPORTER_OTLP_ENDPOINT: string | undefined;
  readonly OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: string | undefined;
  readonly OTEL_EXPORTER_OTLP_PROTOCOL: OtlpProtocol;
  readonly OTEL_SERVICE_NAME: string;
  readonly OTEL_TRACES_SAMPLER: TraceSampler;
  readonly OTEL_TRACES_SAMPLER_ARG: number;
  readonly OTEL_SDK_DISABLED: boolean;
  readonly OTEL_BSP_SCHEDULE_DELAY: number;
}

export function telemetryConfig(v: TelemetryEnv): Readonly<TelemetryConfig> {
  const base = v.OTEL_EXPORTER_OTLP_ENDPOINT ?? null;
  const traces = v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? null;
  // The specification: the signal's own variable is used as is, the general one gets the signal's path.
  const tracesUrl = traces ?? (base === null ? null : `${base.replace(/\/+$/, '')}/v1/traces`);
  return Object.freeze({
    enabled: tracesUrl !== null && !v.OTEL_SDK_DISABLED,
    tracesUrl,
    protocol: v.OTEL_EXPORTER_OTLP_PROTOCOL,
    serviceName: v.OTEL_SERVICE_NAME,
    sampler: v.OTEL_TRACES_SAMPLER,
    samplerRatio: v.OTEL_TRACES_SAMPLER_ARG,
    exportDelayMs: v.OTEL_BSP_SCHEDULE_DELAY,
  });
}
