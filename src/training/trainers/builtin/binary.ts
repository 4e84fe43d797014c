/**
 * A small self-describing container for the checkpoint and the artifact:
 * 4-byte magic, u32 version, u32 header length, UTF-8 JSON header, then little-endian
 * Float32/Int32 sections (lengths recorded in the header). Explicit little-endian so the bytes
 * are the same on every machine.
 */

type Section = Float32Array | Int32Array;
type Decoded<H> = { header: H; sections: Section[] };

const KIND = { f32: 1, i32: 2 } as const;

// On little-endian machines (all current targets) sections are copied as bytes; the DataView
// paths keep the format identical elsewhere.
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export function encodeContainer(
  magic: string,
  version: number,
  header: object,
  sections: Section[],
): Uint8Array {
  const layout = sections.map((s) => ({
    kind: s instanceof Float32Array ? KIND.f32 : KIND.i32,
    length: s.length,
  }));
  const json = new TextEncoder().encode(JSON.stringify({ ...header, sections: layout }));
  const headerEnd = 12 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const total = dataStart + 4 * sections.reduce((sum, s) => sum + s.length, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(magic.padEnd(4).slice(0, 4)), 0);
  view.setUint32(4, version, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, 12);
  let offset = dataStart;
  for (const section of sections) {
    if (LITTLE_ENDIAN) {
      bytes.set(new Uint8Array(section.buffer, section.byteOffset, section.byteLength), offset);
      offset += section.byteLength;
    } else if (section instanceof Float32Array) {
      for (let i = 0; i < section.length; i++, offset += 4)
        view.setFloat32(offset, section[i] as number, true);
    } else {
      for (let i = 0; i < section.length; i++, offset += 4)
        view.setInt32(offset, section[i] as number, true);
    }
  }
  return bytes;
}

export function decodeContainer<H>(
  bytes: Uint8Array,
  magic: string,
  version: number,
  what: string,
): Decoded<H> {
  if (bytes.length < 12) throw new Error(`${what}: too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = new TextDecoder().decode(bytes.subarray(0, 4));
  if (found !== magic) throw new Error(`${what}: not a ${what} (magic ${JSON.stringify(found)})`);
  const foundVersion = view.getUint32(4, true);
  if (foundVersion !== version) throw new Error(`${what}: unsupported version ${foundVersion}`);
  const headerLength = view.getUint32(8, true);
  const parsed = JSON.parse(
    new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)),
  ) as H & {
    sections: { kind: number; length: number }[];
  };
  let offset = Math.ceil((12 + headerLength) / 4) * 4;
  const sections: Section[] = parsed.sections.map(({ kind, length }) => {
    if (offset + 4 * length > bytes.length) throw new Error(`${what}: truncated`);
    if (LITTLE_ENDIAN) {
      const copy = bytes.slice(offset, offset + 4 * length).buffer;
      offset += 4 * length;
      return kind === KIND.f32 ? new Float32Array(copy) : new Int32Array(copy);
    }
    if (kind === KIND.f32) {
      const out = new Float32Array(length);
      for (let i = 0; i < length; i++, offset += 4) out[i] = view.getFloat32(offset, true);
      return out;
    }
    const out = new Int32Array(length);
    for (let i = 0; i < length; i++, offset += 4) out[i] = view.getInt32(offset, true);
    return out;
  });
  return { header: parsed, sections };
}

/** The i-th section, checked to be of the expected kind and length. */
export function section<T extends Section>(
  decoded: Decoded<unknown>,
  index: number,
  ctor: { new (length: number): T },
  length: number,
  what: string,
): T {
  const s = decoded.sections[index];
  if (!(s instanceof ctor) || s.length !== length)
    throw new Error(`${what}: section ${index} has the wrong type or length`);
  return s as T;
}
