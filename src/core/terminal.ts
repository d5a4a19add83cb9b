// Whether the child's process group takes the terminal. Pure: the host asks the terminal.

/**
 * The child becomes the terminal's foreground group only when stdin is a terminal and
 * tsinit's own group holds it (or 0: the foreground group lives in another pid namespace and
 * cannot be named from here, as under `docker run -t`). Taking it from a shell that put
 * tsinit in the background would steal the user's terminal.
 */
export function childTakesTerminal(stdinIsTerminal: boolean, foregroundGroup: number, ownGroup: number): boolean {
  return stdinIsTerminal && (foregroundGroup === ownGroup || foregroundGroup === 0);
}
