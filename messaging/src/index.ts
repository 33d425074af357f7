export { Broker, type ConsumerSpec, type Delivery } from './broker.js';
