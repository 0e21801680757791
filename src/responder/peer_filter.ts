// FCGI_WEB_SERVER_ADDRS: which TCP peers may talk to us. Addresses are
// compared as bytes, so "::1" matches "0:0:0:0:0:0:0:1" and a v4-mapped
// peer ("::ffff:127.0.0.1") matches its IPv4 form.

/** 16 bytes for an IPv6 address, 4 for IPv4; null if neither. */
export function parseIp(text: string): Uint8Array | null {
  let address = text.trim();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  if (!address.includes(":")) return parseIPv4(address);
  return parseIPv6(address);
}

function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const value = Number(parts[i]);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function parseIPv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIPv4(part);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** IPv4 form of a v4-mapped IPv6 address; any other address unchanged. */
function unmap(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return bytes;
  return bytes.subarray(12);
}

function key(bytes: Uint8Array): string {
  return Array.from(unmap(bytes)).join(".");
}

/**
 * A predicate over peer addresses, or null when everyone is allowed.
 *
 * @throws {TypeError} when an entry is not an IP address.
 */
export function peerFilter(
  allowed: readonly string[] | null | undefined,
): ((address: string) => boolean) | null {
  if (allowed === null || allowed === undefined) return null;
  const keys = new Set<string>();
  for (const entry of allowed) {
    if (entry.trim() === "") continue;
    const bytes = parseIp(entry);
    if (bytes === null) throw new TypeError(`not an IP address in the allow-list: "${entry}"`);
    keys.add(key(bytes));
  }
  return (address: string) => {
    const bytes = parseIp(address);
    return bytes !== null && keys.has(key(bytes));
  };
}

/** The allow-list from FCGI_WEB_SERVER_ADDRS ("" or unset: no list). */
export function allowListFromEnv(value: string | undefined): string[] | null {
  if (value === undefined || value.trim() === "") return null;
  return value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
}
