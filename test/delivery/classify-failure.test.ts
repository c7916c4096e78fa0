import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/delivery/classify-failure.ts';

describe('classifyFailure', () => {
  it('defers a 4xx reply', () => {
    const verdict = classifyFailure({ code: 'EENVELOPE', responseCode: 451, response: '451 4.3.0 Try again later', command: 'RCPT TO' });
    expect(verdict).toEqual({ outcome: 'deferred', hardBounce: false, reply: '451 4.3.0 Try again later', replyClass: '4xx', relayFailure: false });
  });

  it('rejects on a 5.1.1 reply and calls it a hard bounce, keeping the reply', () => {
    const verdict = classifyFailure({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 <x@y>: User unknown', command: 'RCPT TO' });
    expect(verdict).toEqual({ outcome: 'rejected', hardBounce: true, reply: '550 5.1.1 <x@y>: User unknown', replyClass: '5xx', relayFailure: false });
  });

  it('rejects on a policy 5xx without calling it a hard bounce', () => {
    expect(classifyFailure({ responseCode: 554, response: '554 5.7.1 Message rejected as spam' })).toMatchObject({ outcome: 'rejected', hardBounce: false });
    expect(classifyFailure({ responseCode: 552, response: '552 Message too large' })).toMatchObject({ outcome: 'rejected', hardBounce: false });
  });

  it('defers timeouts, dropped connections and errors without a reply', () => {
    expect(classifyFailure({ code: 'ETIMEDOUT', message: 'Timeout' })).toMatchObject({ outcome: 'deferred', replyClass: 'none' });
    expect(classifyFailure({ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }).outcome).toBe('deferred');
    expect(classifyFailure({ code: 'ESOCKET', message: 'read ECONNRESET' }).outcome).toBe('deferred');
    expect(classifyFailure({ message: 'something odd' })).toEqual({
      outcome: 'deferred',
      hardBounce: false,
      reply: 'something odd',
      replyClass: 'none',
      relayFailure: false,
    });
  });

  it('defers an authentication failure: it is our configuration, not the recipient', () => {
    expect(classifyFailure({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed', command: 'AUTH PLAIN' })).toMatchObject({
      outcome: 'deferred',
      replyClass: '5xx',
    });
  });

  it('reads the code from the reply text when responseCode is missing', () => {
    expect(classifyFailure({ response: '550 5.1.2 Bad destination domain' })).toMatchObject({ outcome: 'rejected', hardBounce: true });
  });

  it('tells the relay failing apart from a recipient: connection, greeting, timeout, TLS, login and 421 are the relay', () => {
    for (const relay of [
      { code: 'ECONNECTION', message: 'connect ECONNREFUSED 127.0.0.1:25' },
      { code: 'ETIMEDOUT', message: 'Greeting never received', command: 'CONN' },
      { code: 'ESOCKET', message: 'read ECONNRESET' },
      { code: 'EPROTOCOL', response: '421 4.3.2 Service not available, closing channel', command: 'CONN' },
      { code: 'EENVELOPE', responseCode: 421, response: '421 4.7.0 Too many connections', command: 'RCPT TO' },
      { code: 'ETLS', message: 'certificate has expired' },
      { code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed', command: 'AUTH PLAIN' },
    ]) {
      expect(classifyFailure(relay).relayFailure, JSON.stringify(relay)).toBe(true);
    }
    for (const recipient of [
      { code: 'EENVELOPE', responseCode: 451, response: '451 4.2.1 Mailbox busy', command: 'RCPT TO' },
      { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user', command: 'RCPT TO' },
      { code: 'EMESSAGE', responseCode: 552, response: '552 5.3.4 Message too big', command: 'DATA' },
    ]) {
      expect(classifyFailure(recipient).relayFailure, JSON.stringify(recipient)).toBe(false);
    }
  });
});
