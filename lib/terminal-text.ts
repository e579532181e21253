// Text of outside origin made fit for a terminal: every control character is shown escaped, never obeyed.

// C0 controls, DEL and the C1 controls (0x9b is a one-byte CSI to many terminals): all a terminal may act on.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, less line feed and tab
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// What JSON.stringify leaves raw: DEL and C1.
const CONTROL_LEFT_BY_JSON = /[\u007f-\u009f]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const hex = (character: string) => character.charCodeAt(0).toString(16).padStart(2, '0');

/**
 * `text` with each control character written out (`\x1b`, `\x9b`, `\r`, …) so that a terminal prints it rather
 * than obeying it. One field is one line: its line feeds are escaped too, unless `keepLines` (a block of
 * several lines, such as an alert's message) keeps line feeds and tabs.
 */
export function terminalSafe(text: string, options: { keepLines?: boolean } = {}): string {
  return String(text).replace(
    options.keepLines ? CONTROL_BUT_LINES : CONTROL,
    (character) => SHORT[character] ?? `\\x${hex(character)}`,
  );
}

/** Whether `text` holds any character a terminal may act on, line feeds and tabs included. */
export function hasControlCharacters(text: string): boolean {
  return new RegExp(CONTROL.source).test(text);
}

/** JSON for a terminal: JSON.stringify escapes C0 itself; DEL and C1 become \u escapes, still valid JSON. */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    CONTROL_LEFT_BY_JSON,
    (character) => `\\u00${hex(character)}`,
  );
}
