import { describe, expect, it } from 'vitest';
import { classifyError } from './http-client.js';

const withCode = (code: string, cause?: Error): Error => Object.assign(new Error(code, cause ? { cause } : undefined), { code });

describe('classifyError', () => {
  it('maps socket and undici error codes to kinds, looking through causes', () => {
    expect(classifyError(withCode('ECONNREFUSED'))).toBe('refused');
    expect(classifyError(withCode('ECONNRESET'))).toBe('reset');
    expect(classifyError(withCode('UND_ERR_SOCKET', withCode('EPIPE')))).toBe('reset');
    expect(classifyError(withCode('ENOTFOUND'))).toBe('dns');
    expect(classifyError(withCode('EAI_AGAIN'))).toBe('dns');
    expect(classifyError(withCode('UND_ERR_CONNECT_TIMEOUT'))).toBe('timeout');
    expect(classifyError(new Error('wrapped', { cause: withCode('ECONNREFUSED') }))).toBe('refused');
    expect(classifyError(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe('timeout');
    expect(classifyError(new Error('something else'))).toBe('other');
    expect(classifyError('not an error')).toBe('other');
  });
});
