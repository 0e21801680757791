// Params are mostly short ASCII: building those strings directly is much
// cheaper than a TextDecoder call per name and value.
// ignoreBOM: a leading U+FEFF is part of the text, not a marker to strip.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/** Decodes `bytes[start, end)` as UTF-8 (invalid sequences become U+FFFD). */
export function decodeText(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 48) {
    let text = "";
    for (let i = start; i < end; i++) {
      const byte = bytes[i];
      if (byte > 0x7f) return utf8.decode(bytes.subarray(start, end));
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return utf8.decode(bytes.subarray(start, end));
}

/** Encodes a string as UTF-8. */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Encodes an ASCII-only string (one byte per char) into `target` at `offset`. */
export function writeAscii(target: Uint8Array, offset: number, text: string): number {
  for (let i = 0; i < text.length; i++) target[offset + i] = text.charCodeAt(i);
  return offset + text.length;
}
