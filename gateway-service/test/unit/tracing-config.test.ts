import { expect } from 'chai';
import { loadConfig as executorConfig } from '@tasks/executor-service';
import { loadConfig as gatewayConfig } from '../../src/config.js';
import { loadConfig as storeConfig } from '@tasks/task-store-service';
import type { ConfigError } from '@tasks/service-runtime';

const services = [
  ['task-store-service', storeConfig],
  ['gateway-service', gatewayConfig],
  ['executor-service', executorConfig],
] as const;

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect((err as Error).name).to.equal('ConfigError');
    return err as ConfigError;
  }
  expect.fail('expected a ConfigError');
}

describe('tracing configuration (the standard OTEL_* variables, in each service)', () => {
  for (const [name, load] of services) {
    describe(name, () => {
      it('when no endpoint is set, then tracing is off and service.name defaults to the service', () => {
        const t = load({}).telemetry;
        expect(t.enabled).to.equal(false);
        expect(t.serviceName).to.equal(name);
      });

      it('when OTEL_EXPORTER_OTLP_ENDPOINT is set, then traces go to its /v1/traces with the protocol given', () => {
        const t = load({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'mine',
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.25',
        }).telemetry;
        expect(t).to.deep.include({
          enabled: true,
          tracesUrl: 'http://collector:4318/v1/traces',
          protocol: 'http/json',
          serviceName: 'mine',
          sampler: 'parentbased_traceidratio',
          samplerRatio: 0.25,
        });
      });

      it('when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, then it is used as given', () => {
        const t = load({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom',
        }).telemetry;
        expect(t.tracesUrl).to.equal('http://b:4318/custom');
      });

      it('when OTEL_SDK_DISABLED=true, then tracing is off even with an endpoint', () => {
        expect(
          load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'true' }).telemetry.enabled,
        ).to.equal(false);
      });

      it('when the protocol is grpc or unknown, then one ConfigError names the variable and the protocols there are', () => {
        const err = configErrorOf(() => load({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }));
        expect(err.message).to.include('OTEL_EXPORTER_OTLP_PROTOCOL');
        expect(err.message).to.include('http/protobuf, http/json');
      });

      it('when the endpoint is not an http(s) URL, the sampler unknown or its ratio above 1, then each is named', () => {
        const err = configErrorOf(() =>
          load({
            OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
            OTEL_TRACES_SAMPLER: 'sometimes',
            OTEL_TRACES_SAMPLER_ARG: '2',
          }),
        );
        for (const v of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG'])
          expect(err.message).to.include(v);
      });
    });
  }
});
