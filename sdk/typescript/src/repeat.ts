// Timing and local logging shared by the driver's parts.

/** every calls f every ms (at once too when now) until the returned function is called; f's errors are ignored (best effort). */
export function every(ms: number, now: boolean, f: () => void): () => void {
  const safe = () => bestEffort(f);
  if (now) safe();
  const t = setInterval(safe, ms);
  return () => clearInterval(t);
}

/** bestEffort calls f and ignores its error: a publish on a closing connection, made up for by the next. */
export function bestEffort(f: () => void): void {
  try {
    f();
  } catch {
    // best effort
  }
}

/** within is whether p settles within ms. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  return done;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** log writes one line of the driver's own log on stderr (not into a run's log). */
export function log(msg: string, driver: string, where = ""): void {
  console.error(`${new Date().toISOString()} conveyor driver=${driver}${where ? ` ${where}` : ""}: ${msg}`);
}
