/**
 * NFKC without ICU for the characters most players type. ICU's normalizer is a cold path on every
 * turn (the exit-phrase check and the lore query each normalise the line), and for these
 * characters NFKC is known: ASCII, the CJK unified ideographs (U+4E00–U+9FFF) and 、。 are left
 * as they are, full-width ASCII (U+FF01–U+FF5E) becomes ASCII (minus 0xFEE0), and none of them
 * composes with a neighbour. So text made only of them normalises one code unit at a time.
 */

/** The NFKC form of one UTF-16 code unit of such text, or -1 for any other code unit. */
export function quickNfkcUnit(c: number): number {
  if (c < 0x80 || (c >= 0x4e00 && c <= 0x9fff) || c === 0x3001 || c === 0x3002) return c
  if (c >= 0xff01 && c <= 0xff5e) return c - 0xfee0
  return -1
}

/**
 * `text.toLowerCase()` for text made only of the characters above (their only cased letters are
 * A–Z and full-width Ａ–Ｚ); undefined for any other. V8 lowercases any text that is not Latin-1
 * through ICU, so a Chinese line took the cold path too.
 */
export function quickLowerCase(text: string): string | undefined {
  return mapUnits(text, false)
}

/** `text.toLowerCase().normalize('NFKC')` for text made only of the characters above; undefined for any other. */
export function quickLowerNfkc(text: string): string | undefined {
  return mapUnits(text, true)
}

/** Each code unit lowercased, and put in NFKC form too when `nfkc`; undefined if any unit is not one of the above. */
function mapUnits(text: string, nfkc: boolean): string | undefined {
  let out = ''
  let copied = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    let c = quickNfkcUnit(unit)
    if (c < 0) return undefined
    if (!nfkc) c = unit
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0xff21 && c <= 0xff3a)) c += 0x20
    if (c === unit) continue
    // Copies the unchanged stretch before this unit at once: most of a Chinese line is.
    out += text.slice(copied, i) + String.fromCharCode(c)
    copied = i + 1
  }
  return copied === 0 ? text : out + text.slice(copied)
}
