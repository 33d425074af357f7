// Worker-thread entry used only when running from TypeScript sources under tsx (dev, tests):
// the main thread's loader hooks do not reach worker threads, so register tsx here first.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./cpu-worker.ts');
export default worker.default;
