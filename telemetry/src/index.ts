export {
  OTLP_PROTOCOLS,
  TRACE_SAMPLERS,
  telemetryConfig,
  telemetryEnvSchema,
  type OtlpProtocol,
  type TelemetryConfig,
  type TelemetryEnv,
  type TraceSampler,
} from './config.js';
export { startTelemetry, type InstrumentationName, type Telemetry } from './start.js';
export { traceLogFields } from './log-mixin.js';
export {
  activeContext,
  contextOfTraceparent,
  extractTraceContext,
  failSpan,
  injectTraceHeaders,
  isTraceparent,
  linkTo,
  setTracingOn,
  SpanKind,
  traceIdOf,
  tracingOn,
  withContext,
  withSpan,
  type Context,
  type SpanOptions,
} from './spans.js';
export { callTraceparents, rpcAttributes, RPC_TRACEPARENTS_HEADER, traceStoreRequests } from './rpc.js';
export { consumeSpan, publishSpan, type MessagingTarget } from './amqp.js';
