/**
 * The ids of one catalog file, remembered in constant memory (a 16 MB Bloom filter): every id seen
 * twice is flagged, with a few that were not (about 1 in 100,000 at a million ids), which the
 * import checks against its stage. A set of the ids would grow with the catalog.
 */
const BITS = 2 ** 27;
const HASHES = 3;

/** FNV-1a over the id's UTF-16 code units, from two offset bases: two independent 32-bit hashes. */
function fnv(id: string, basis: number): number {
  let h = basis;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class SeenIds {
  private readonly bits = new Uint32Array(BITS / 32);
  /** Ids that may have been seen before (every repeated id is here). */
  readonly maybeRepeated = new Set<string>();

  add(id: string) {
    const h1 = fnv(id, 0x811c9dc5);
    const h2 = (fnv(id, 0x01234567) | 1) >>> 0;
    let seen = true;
    for (let k = 0; k < HASHES; k++) {
      const bit = (h1 + k * h2) % BITS;
      const mask = 1 << (bit % 32);
      if (!(this.bits[bit >>> 5] & mask)) {
        seen = false;
        this.bits[bit >>> 5] |= mask;
      }
    }
    if (seen) this.maybeRepeated.add(id);
  }
}
