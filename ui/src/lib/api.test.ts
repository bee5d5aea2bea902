import { describe, expect, it } from 'vitest';
import { toError } from './api';

describe('toError', () => {
  it('keeps the core error as it is', () => {
    const e = {
      code: 'repo_exists',
      message: 'The repository a/b already exists.',
      retryable: false,
    };
    expect(toError(e)).toBe(e);
  });

  it('turns anything else into a plain, retryable internal error', () => {
    expect(toError(new Error('boom')).code).toBe('internal');
    expect(toError('Command x not allowed by ACL').message).toBe(
      'OxDrop could not do that: Command x not allowed by ACL',
    );
    const long = toError('x'.repeat(1000));
    expect(long.message).toBe('Something went wrong inside OxDrop. Please try again.');
    expect(long.retryable).toBe(true);
  });
});
