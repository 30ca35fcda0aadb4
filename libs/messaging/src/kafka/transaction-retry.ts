/**
 * Right after a commit the coordinator is still writing the previous transaction's markers and answers the next
 * AddOffsetsToTxn with CONCURRENT_TRANSACTIONS, which brokers expect clients to retry (the Java client does);
 * kafkajs retries it inside send() but not inside sendOffsets(). Without this, back-to-back transactions of one
 * consumer aborted and re-delivered their whole batch after a backoff.
 */
export async function whileTransactionsSettle<T>(operation: () => Promise<T>, attempts = 10, pause: (ms: number) => Promise<void> = sleep): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if ((error as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || attempt >= attempts) throw error;
      await pause(Math.min(500, 10 * 2 ** (attempt - 1)));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
