import type { StreamState } from "../ops/states";

/** One colour per state, used by the page and asserted by the browser test. */
export const STATE_COLOURS: Record<StreamState, string> = {
  fresh: "#1a7f37",
  late: "#bf8700",
  stale: "#cf222e",
  failing: "#82071e",
  paused: "#6e7781",
  "zero-record": "#8250df",
};

export const CONDITION_COLOURS: Record<string, string> = {
  ok: STATE_COLOURS.fresh,
  "slot-lag": STATE_COLOURS.stale,
  silent: STATE_COLOURS.stale,
  failing: STATE_COLOURS.failing,
};
