import { ConnectorError } from '@grantline/connector-sdk';
import { AclAdminError } from '@grantline/messaging';
import { toKafkaAclConnectorError } from './kafka-acl-error.classifier';

const kafkaError = (name: string, code?: number, retriable = false): AclAdminError =>
  new AclAdminError(`creating ACLs: ${name}`, { kafkaErrorName: name, ...(code === undefined ? {} : { kafkaErrorCode: code }), retriable });

describe('Kafka error taxonomy → SDK codes', () => {
  it.each([
    ['NETWORK_EXCEPTION', 13, 'unavailable', 'retriable'],
    ['NOT_CONTROLLER', 41, 'unavailable', 'retriable'],
    ['LEADER_NOT_AVAILABLE', 5, 'unavailable', 'retriable'],
    ['COORDINATOR_LOAD_IN_PROGRESS', 14, 'unavailable', 'retriable'],
    ['REQUEST_TIMED_OUT', 7, 'timeout', 'retriable'],
    ['THROTTLING_QUOTA_EXCEEDED', 89, 'rate_limited', 'retriable'],
    ['CLUSTER_AUTHORIZATION_FAILED', 31, 'permission_denied', 'terminal'],
    ['TOPIC_AUTHORIZATION_FAILED', 29, 'permission_denied', 'terminal'],
    ['GROUP_AUTHORIZATION_FAILED', 30, 'permission_denied', 'terminal'],
    ['SECURITY_DISABLED', 54, 'invalid_request', 'terminal'],
    ['INVALID_REQUEST', 42, 'invalid_request', 'terminal'],
    ['UNSUPPORTED_VERSION', 35, 'invalid_request', 'terminal'],
    ['UNKNOWN_TOPIC_OR_PARTITION', 3, 'not_found', 'terminal'],
    ['RESOURCE_NOT_FOUND', 91, 'not_found', 'terminal'],
    ['UNKNOWN_SERVER_ERROR', -1, 'unknown', 'terminal'],
  ])('%s (%i) is %s, %s, keeping the name and code', (name, code, expectedCode, errorClass) => {
    const error = toKafkaAclConnectorError(kafkaError(name, code));
    expect(error).toBeInstanceOf(ConnectorError);
    expect({ code: error.code, errorClass: error.errorClass, providerCode: error.providerCode }).toEqual({
      code: expectedCode,
      errorClass,
      providerCode: `${name}(${code})`,
    });
  });

  it.each([
    ['CONNECTION_ERROR', 'unavailable', 'retriable'],
    ['REQUEST_TIMEOUT', 'timeout', 'retriable'],
    ['SASL_AUTHENTICATION_FAILED', 'permission_denied', 'terminal'],
    ['CLIENT_ERROR', 'unknown', 'terminal'],
  ])("the port's own %s (below the protocol) is %s, %s", (name, expectedCode, errorClass) => {
    expect(toKafkaAclConnectorError(kafkaError(name))).toMatchObject({ code: expectedCode, errorClass, providerCode: name });
  });

  it("falls back on the client's verdict for a Kafka error it does not name: retriable → unavailable, else unknown", () => {
    expect(toKafkaAclConnectorError(kafkaError('FENCED_LEADER_EPOCH', 74, true))).toMatchObject({ code: 'unavailable', errorClass: 'retriable' });
    expect(toKafkaAclConnectorError(kafkaError('INVALID_SESSION_TIMEOUT', 26, false))).toMatchObject({ code: 'unknown', errorClass: 'terminal' });
  });

  it('leaves a ConnectorError as it is and maps a bare socket error the SDK way', () => {
    const own = new ConnectorError('not_found', 'topic jit.x does not exist');
    expect(toKafkaAclConnectorError(own)).toBe(own);
    expect(toKafkaAclConnectorError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({
      code: 'unavailable',
      errorClass: 'retriable',
    });
    expect(toKafkaAclConnectorError(new Error('something odd'))).toMatchObject({ code: 'unknown', errorClass: 'terminal' });
  });
});
