import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/delivery/classify-failure.ts';

describe('classifyFailure', () => {
  it('retries a 4xx reply', () => {
    const verdict = classifyFailure({ code: 'EENVELOPE', responseCode: 451, response: '451 4.3.0 Try again later', command: 'RCPT TO' });
    expect(verdict).toEqual({ outcome: 'retry', bounce: false, reply: '451 4.3.0 Try again later', replyClass: '4xx' });
  });

  it('makes a 5.1.1 reply permanent and a hard bounce, keeping the reply', () => {
    const verdict = classifyFailure({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 <x@y>: User unknown', command: 'RCPT TO' });
    expect(verdict).toEqual({ outcome: 'permanent', bounce: true, reply: '550 5.1.1 <x@y>: User unknown', replyClass: '5xx' });
  });

  it('makes a policy 5xx permanent without marking the address bounced', () => {
    expect(classifyFailure({ responseCode: 554, response: '554 5.7.1 Message rejected as spam' })).toMatchObject({ outcome: 'permanent', bounce: false });
    expect(classifyFailure({ responseCode: 552, response: '552 Message too large' })).toMatchObject({ outcome: 'permanent', bounce: false });
  });

  it('retries timeouts, dropped connections and errors without a reply', () => {
    expect(classifyFailure({ code: 'ETIMEDOUT', message: 'Timeout' })).toMatchObject({ outcome: 'retry', replyClass: 'none' });
    expect(classifyFailure({ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }).outcome).toBe('retry');
    expect(classifyFailure({ code: 'ESOCKET', message: 'read ECONNRESET' }).outcome).toBe('retry');
    expect(classifyFailure({ message: 'something odd' })).toEqual({ outcome: 'retry', bounce: false, reply: 'something odd', replyClass: 'none' });
  });

  it('retries an authentication failure: it is our configuration, not the recipient', () => {
    expect(classifyFailure({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed', command: 'AUTH PLAIN' })).toMatchObject({
      outcome: 'retry',
      replyClass: '5xx',
    });
  });

  it('reads the code from the reply text when responseCode is missing', () => {
    expect(classifyFailure({ response: '550 5.1.2 Bad destination domain' })).toMatchObject({ outcome: 'permanent', bounce: true });
  });
});
