/**
 * Runs a start-up step once and hands every caller the same promise, unless the step failed: a failure is not kept,
 * so the next caller runs the step again (a step that can fail at start, e.g. before its handlers are registered,
 * must not make every later call fail).
 */
export class OnceUntilFailure<T> {
  private running: Promise<T> | undefined;

  run(step: () => Promise<T>): Promise<T> {
    this.running ??= step().catch((error: unknown) => {
      this.running = undefined;
      throw error;
    });
    return this.running;
  }
}
