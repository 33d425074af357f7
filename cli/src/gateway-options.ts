/** The options every command that talks to the REST gateway takes, and the client they make. */
import type { Command } from 'commander';
import type { CliIo } from './command.js';
import { GatewayClient } from './gateway-client.js';
import { checkUrl, resolveSecret } from './options.js';

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';

export interface GatewayFlags {
  gateway?: string;
  apiKey?: string;
}

export function withGatewayOptions(cmd: Command): Command {
  return cmd
    .option('--gateway <url>', `REST gateway (default: $TASKS_GATEWAY_URL or ${DEFAULT_GATEWAY_URL})`)
    .option('--api-key <key>', 'API key for the gateway (default: $TASKS_API_KEY)');
}

export function gatewayClient(flags: GatewayFlags, timeoutMs: number, env: CliIo['env']): GatewayClient {
  const key = resolveSecret(flags.apiKey, env.TASKS_API_KEY);
  return new GatewayClient({
    url: checkUrl(flags.gateway ?? (env.TASKS_GATEWAY_URL || DEFAULT_GATEWAY_URL), 'gateway URL'),
    timeoutMs,
    ...(key !== undefined && { apiKey: key }),
  });
}
