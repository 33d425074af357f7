export * from './task.js';
export * from './transitions.js';
export * from './errors.js';
export * from './schemas.js';
export * from './methods.js';
export * from './store-client.js';
export * from './ajv.js';
export * from './amqp.js';
