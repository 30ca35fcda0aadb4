import { whileTransactionsSettle } from './transaction-retry';

const concurrentTransactions = (): Error =>
  Object.assign(new Error('another concurrent operation on the same transaction'), { type: 'CONCURRENT_TRANSACTIONS' });

describe('whileTransactionsSettle', () => {
  const pauses: number[] = [];
  const pause = async (ms: number): Promise<void> => void pauses.push(ms);
  beforeEach(() => pauses.splice(0));

  it('given the coordinator answers CONCURRENT_TRANSACTIONS twice, then the operation is retried with growing pauses and succeeds', async () => {
    let calls = 0;
    const result = await whileTransactionsSettle(
      async () => {
        calls += 1;
        if (calls <= 2) throw concurrentTransactions();
        return 'committed';
      },
      10,
      pause,
    );
    expect(result).toBe('committed');
    expect(calls).toBe(3);
    expect(pauses).toEqual([10, 20]);
  });

  it('given any other error, then it is thrown at once', async () => {
    let calls = 0;
    const fenced = Object.assign(new Error('fenced'), { type: 'INVALID_PRODUCER_EPOCH' });
    await expect(
      whileTransactionsSettle(
        async () => {
          calls += 1;
          throw fenced;
        },
        10,
        pause,
      ),
    ).rejects.toBe(fenced);
    expect(calls).toBe(1);
  });

  it('given the coordinator never settles, then the last error is thrown after the attempts', async () => {
    let calls = 0;
    await expect(
      whileTransactionsSettle(
        async () => {
          calls += 1;
          throw concurrentTransactions();
        },
        4,
        pause,
      ),
    ).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    expect(calls).toBe(4);
    expect(pauses).toEqual([10, 20, 40]);
  });
});
