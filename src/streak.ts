/**
 * What lengthens a promotion streak, in the words both the gate's verdict (compare/gate.ts) and the
 * migration board (`dualrun status`) use: only a passing check of a later night. A scenario always
 * judges its own last night, so checking one scenario again never does.
 */
export function streakNeeds(streakNight: string | null): string {
  return `each passing check of a later night${streakNight ? ` than ${streakNight}` : ''} adds one: run dualrun check after each nightly batch run (it judges the last 02:00 cut-off), or check a scenario whose last night is later`;
}
