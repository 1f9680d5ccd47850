/**
 * Which backends did a forward's work. Backend "auto" (and a backend a host cannot run, where
 * the dispatcher falls back) makes this a fact to report, not an option to echo: the profile
 * of a forward counts the calls each backend ran, for attention() and for the linear layers,
 * and the most threads one call ran on.
 */

/** Calls per backend name ("wasm", "js", "native", …), and the most threads one call ran on. */
export interface BackendsUsed {
  attention: Record<string, number>;
  linear: Record<string, number>;
  threads: number;
}

/** Counts the backends of one forward's calls (one increment per call, never per element). */
export class BackendTally {
  private readonly used: BackendsUsed = { attention: {}, linear: {}, threads: 0 };

  /** One call of `kind` ran on `backend` with `threads` (1 when the backend does not say). */
  note(kind: "attention" | "linear", backend: string | undefined, threads: number | undefined): void {
    const name = backend ?? "unknown";
    const counts = this.used[kind];
    counts[name] = (counts[name] ?? 0) + 1;
    this.used.threads = Math.max(this.used.threads, threads ?? 1);
  }

  /** A copy of the counts so far. */
  snapshot(): BackendsUsed {
    const u = this.used;
    return { attention: { ...u.attention }, linear: { ...u.linear }, threads: u.threads };
  }
}
