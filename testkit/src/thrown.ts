/** The error a synchronous call throws, checked to be of the expected class (config and parse tests). */
import assert from 'node:assert/strict';

export function thrownBy<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected a ${type.name}, but nothing was thrown`);
}
