/**
 * The time source of the installer. Tests inject a manual clock so limits
 * and boot deadlines can be driven without sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `callback` every `intervalMs` milliseconds until the returned function is called. */
  every(intervalMs: number, callback: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(intervalMs, callback) {
    const timer = setInterval(callback, intervalMs);
    return () => clearInterval(timer);
  },
};
