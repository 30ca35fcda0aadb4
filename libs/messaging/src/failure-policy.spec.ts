import { ContractViolationError, TOPICS, UnknownEventTypeError, connectorResultsTopic } from '@grantline/contracts';
import { RetriableError, TerminalError } from './errors';
import { decideOnDecodeFailure, decideOnHandlerFailure, isUpstreamTopic } from './failure-policy';

describe('failure policy', () => {
  describe('given a record that cannot be decoded', () => {
    it('when it is not JSON, then it is poison: dead-lettered as schema_invalid', () => {
      const syntax = (() => {
        try {
          return JSON.parse('{not json') as unknown;
        } catch (error) {
          return error;
        }
      })();
      expect(decideOnDecodeFailure(syntax, TOPICS.requests)).toMatchObject({
        action: 'dead-letter',
        errorClass: 'schema_invalid',
        reason: expect.stringMatching(/^undecodable message: SyntaxError/),
      });
    });

    it('when it breaks its contract, then it is poison on any topic, upstream or not', () => {
      const violation = new ContractViolationError([{ path: 'data.key', message: 'Required' }], 'iga.request.submitted.v2');
      for (const topic of [TOPICS.requests, TOPICS.itsmInbound, 'spec.private.topic']) {
        expect(decideOnDecodeFailure(violation, topic)).toMatchObject({
          action: 'dead-letter',
          errorClass: 'schema_invalid',
          reason: expect.stringMatching(/data\.key: Required/),
        });
      }
    });

    it.each([TOPICS.requests, TOPICS.grants, connectorResultsTopic('pg-main'), 'spec.not-in-the-catalogue'])(
      'when its type is unknown on %s (written by a Grantline service), then the partition halts naming the type',
      (topic) => {
        expect(decideOnDecodeFailure(new UnknownEventTypeError('iga.grant.revoked.v3'), topic)).toEqual({
          action: 'halt',
          eventType: 'iga.grant.revoked.v3',
          reason: 'event type unknown to this service: iga.grant.revoked.v3',
        });
      },
    );

    it('when its type is unknown on a topic an external upstream writes, then it is poison: dead-lettered as unknown_type', () => {
      expect(decideOnDecodeFailure(new UnknownEventTypeError('servicenow.ritm.v9'), TOPICS.itsmInbound)).toMatchObject({
        action: 'dead-letter',
        errorClass: 'unknown_type',
      });
    });

    it('when decoding fails for another reason (an upcaster bug), then it halts on the type the record claims', () => {
      const decision = decideOnDecodeFailure(new Error('iga.request.submitted: no upcaster into v3'), TOPICS.requests, { type: 'iga.request.submitted.v1' });
      expect(decision).toMatchObject({ action: 'halt', eventType: 'iga.request.submitted.v1', reason: expect.stringMatching(/no upcaster/) });
      expect(decideOnDecodeFailure(new Error('boom'), TOPICS.requests, 42)).toMatchObject({ action: 'halt', eventType: '(none)' });
    });
  });

  it('knows the upstream-written topics from the catalogue owners', () => {
    expect(isUpstreamTopic(TOPICS.itsmInbound)).toBe(true);
    expect(isUpstreamTopic(TOPICS.itsmStatus)).toBe(false);
    expect(isUpstreamTopic(TOPICS.deadLetter)).toBe(false);
    expect(isUpstreamTopic('e2e-run1.iga.itsm.inbound.v1')).toBe(false);
  });

  it.each([
    ['a RetriableError', new RetriableError('target busy'), 'warn'],
    ['an unclassified error (a MongoDB blip)', new Error('MongoNetworkError: connection reset'), 'warn'],
    ['a thrown string', 'oops', 'warn'],
    ['a TerminalError, retried all the same (fail closed) but logged as an error', new TerminalError('entitlement unknown'), 'error'],
  ])('given a handler that throws %s, then it is retried', (_what, error, level) => {
    expect(decideOnHandlerFailure(error)).toEqual({ action: 'retry', level });
  });
});
