/**
 * How long the relay pauses before probing the outbox again after it found nothing new:
 * 1/20 of the time since it last found rows, within [minMs, maxMs]. Under a steady trickle
 * it probes every `minMs`, so a commit waits at most that long to be fetched; after a quiet
 * while it backs off to `maxMs`, and the first commit after an idle period of T waits at
 * most T/20 (never more than `maxMs`).
 */
export function pollPause(msSinceRowsFound: number, minMs: number, maxMs: number): number {
  const floor = Math.min(minMs, maxMs);
  return Math.min(maxMs, Math.max(floor, Math.round(msSinceRowsFound / 20)));
}
