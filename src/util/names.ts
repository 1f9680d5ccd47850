/**
 * Characters no name that becomes a path may hold, on any platform: NUL and the other control
 * characters (C0, DEL, C1), `\` (a separator on Windows) and `:` (a drive or an alternate data
 * stream on Windows). Checked by hand, character by character (no regular expression with
 * control characters in it).
 */

/** The first forbidden character of `s` described for an error ("a backslash", "U+0000"), or null. */
export function forbiddenPathChar(s: string, allowColon = false): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
      return `the control character U+${c.toString(16).padStart(4, "0").toUpperCase()}`;
    if (c === 0x5c) return 'a backslash "\\"';
    if (c === 0x3a && !allowColon) return 'a colon ":"';
  }
  return null;
}
