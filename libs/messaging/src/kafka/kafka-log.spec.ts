import { isTransientBrokerAnswer } from './kafka-log';

describe('isTransientBrokerAnswer', () => {
  it.each([
    [{ message: 'Response Metadata(key: 3, version: 6)', error: 'This server does not host this topic-partition' }],
    [{ message: 'Response CreateTopics(key: 19, version: 3)', error: 'Topic creation errors' }],
    [{ message: 'Response Heartbeat(key: 12, version: 3)', error: 'The group is rebalancing, so a rejoin is needed' }],
    [
      {
        message:
          'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
      },
    ],
  ])('given the expected, retried broker answer %p, then it is transient', (log) => {
    expect(isTransientBrokerAnswer(log)).toBe(true);
  });

  it.each([
    [{ message: 'Connection error: connect ECONNREFUSED 127.0.0.1:19092' }],
    [{ message: 'Response SaslAuthenticate', error: 'SASL Authentication failed' }],
    [{ message: 'Crash: KafkaJSNonRetriableError' }],
  ])('given %p, then it stays an error', (log) => {
    expect(isTransientBrokerAnswer(log)).toBe(false);
  });
});
