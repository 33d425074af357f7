/**
 * Standing the system up for tests, the fault suite and the benchmarks. In process: a store
 * (startStore), a store and gateway (startGatewayFixture), a store and executors on a real
 * RabbitMQ topology (startExecutorHarness). As processes, the way `make start` runs them:
 * startSystem. Around them: a TCP proxy to cut or slow a connection, private RabbitMQ and
 * PostgreSQL nodes to kill, local webhook and OTLP receivers, free ports, and the environment.
 */
export * from './env.js';
export * from './ports.js';
export * from './http.js';
export * from './store-fixture.js';
export * from './gateway-fixture.js';
export * from './executor-fixture.js';
export * from './system.js';
export * from './tcp-proxy.js';
export * from './rabbit-node.js';
export * from './pg-node.js';
export * from './webhook-receiver.js';
export * from './otlp-receiver.js';
export * from './thrown.js';
