/**
 * Strings kept for long in this process's memory (sessions, pending logins, token records) are kept
 * flat. V8 builds long strings (`JSON.stringify`'s output, concatenations) as trees of parts; kept as
 * they are, a 350-character pending login costs about 140 bytes more heap than its characters.
 * Reading a string as a number makes V8 flatten it in place (the tree becomes one sequential string
 * and the garbage collector drops the parts), for about the cost of copying it once.
 *
 * @module
 */

/** `value`, flattened in place (see the module comment); the same string for every caller. */
export function flattened(value: string): string {
  // The conversion's result does not matter: flattening is its side effect.
  void Number(value);
  return value;
}
