/**
 * Starting tracing: nothing at all when it is off (no SDK module is even loaded), the SDK and
 * its instrumentations when it is on. Call it in main.ts before importing the service's modules.
 */
import type { TelemetryConfig } from './config.js';
import type { InstrumentationName } from './sdk.js';
import { setTracingOn } from './spans.js';

export type { InstrumentationName };

export interface Telemetry {
  enabled: boolean;
  /** Exports the spans still buffered, then stops; bounded, never throws. */
  shutdown(): Promise<void>;
}

/** How long a shutdown waits for the last spans to be exported. */
const SHUTDOWN_BUDGET_MS = 3_000;

export async function startTelemetry(
  config: TelemetryConfig,
  instrumentations: readonly InstrumentationName[],
): Promise<Telemetry> {
  if (!config.enabled) return { enabled: false, shutdown: () => Promise.resolve() };
  const { startSdk } = await import('./sdk.js');
  const sdk = await startSdk(config, instrumentations, config.exportDelayMs);
  setTracingOn(true);
  return {
    enabled: true,
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sdk.shutdown().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_BUDGET_MS))),
      ]);
      clearTimeout(timer);
      setTracingOn(false);
    },
  };
}
