import { expect } from 'chai';
import { isStoreError, type ErrorType, type StoreError } from '@tasks/contracts';

/** Awaits `p` and asserts it fails with a store error of the given type. */
export async function rejectsWith(p: Promise<unknown>, type: ErrorType): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    expect(isStoreError(err), String(err)).to.equal(true);
    expect((err as StoreError).type).to.equal(type);
    return err as StoreError;
  }
  expect.fail(`expected a ${type} error`);
}
