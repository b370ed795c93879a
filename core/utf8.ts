/** Byte offset of the first byte that breaks UTF-8 (RFC 3629), or -1 when the buffer is valid. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const length = bytes.length;
  let index = 0;
  while (index < length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index += 1;
      continue;
    }
    let needed: number;
    let min: number;
    if (lead >= 0xc2 && lead <= 0xdf) { needed = 1; min = 0x80; }
    else if (lead >= 0xe0 && lead <= 0xef) { needed = 2; min = 0x800; }
    else if (lead >= 0xf0 && lead <= 0xf4) { needed = 3; min = 0x10000; }
    else return index;
    let codePoint = lead & (0x3f >> needed);
    for (let k = 1; k <= needed; k += 1) {
      const next = bytes[index + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return index;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return index;
    index += needed + 1;
  }
  return -1;
}

/** 1-based line and column (in bytes) of a byte offset, for reporting encoding errors. */
export function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset; index += 1) {
    if (bytes[index] === 0x0a) {
      line += 1;
      lineStart = index + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
