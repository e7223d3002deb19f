/** `new Date().toISOString()`, computed at most once per millisecond: every record asks for it. */
export function cachedIsoClock(): () => string {
  let at = 0;
  let text = "";
  return () => {
    const now = Date.now();
    if (now !== at) {
      at = now;
      text = new Date(now).toISOString();
    }
    return text;
  };
}

export function newRunId(slot: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `${slot}-${stamp}-${Math.random().toString(16).slice(2, 8)}`;
}
