// What the terminal-safety tests look for: control characters that reached the output raw.

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding raw control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** Every raw control character in `text` (line feeds excepted), written out for a readable failure. */
export function rawControls(text: string): string[] {
  return [...text.matchAll(RAW_CONTROL)].map(
    (match) => `\\x${(match[0].codePointAt(0) ?? 0).toString(16).padStart(2, '0')} at ${match.index}`,
  );
}
