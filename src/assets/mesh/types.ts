/** An indexed triangle mesh with optional per-vertex RGB in 0..1 (the form every mesh step passes on). */
export interface TriMesh {
  /** V×3 positions */
  positions: Float32Array;
  /** T×3 vertex indices, counter-clockwise seen from outside */
  indices: Uint32Array;
  /** V×3 linear-ish display RGB in 0..1, when known (with a texture: the fallback colouring) */
  colors?: Float32Array;
  /**
   * V×2 texture coordinates into `texture`, glTF convention: u to the right, v down, (0, 0) the
   * top-left corner of the image (USD `st` = (u, 1 − v)). Set by the atlas (atlas.ts), whose
   * vertices are duplicated along chart borders.
   */
  uvs?: Float32Array;
  /** base colour texture the `uvs` map into (texture.ts bakes it from the renders) */
  texture?: MeshTexture;
}

/**
 * An RGB base-colour image: `width`×`height`×3 bytes, row 0 at the top (v = 0), values
 * sRGB-encoded (display colours, as a PNG / glTF baseColorTexture / USD UsdUVTexture with
 * sourceColorSpace "sRGB" expects). `texturePng` (texture.ts) encodes it.
 */
export interface MeshTexture {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export function triangleCount(m: TriMesh): number {
  return m.indices.length / 3;
}

/** Axis-aligned bounds of the referenced vertices. */
export function meshBounds(m: TriMesh): { min: [number, number, number]; max: [number, number, number] } {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  const p = m.positions;
  for (let k = 0; k < m.indices.length; k++) {
    const v = m.indices[k]! * 3;
    for (let a = 0; a < 3; a++) {
      const x = p[v + a]!;
      if (x < min[a]!) min[a] = x;
      if (x > max[a]!) max[a] = x;
    }
  }
  return { min, max };
}

/** Apply x' = s·R·(x − c) to every vertex (R row-major 3×3); returns a new mesh. */
export function transformMesh(m: TriMesh, R: ArrayLike<number>, s: number, c: ArrayLike<number>): TriMesh {
  const p = m.positions, out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    const x = p[i]! - c[0]!, y = p[i + 1]! - c[1]!, z = p[i + 2]! - c[2]!;
    out[i] = s * (R[0]! * x + R[1]! * y + R[2]! * z);
    out[i + 1] = s * (R[3]! * x + R[4]! * y + R[5]! * z);
    out[i + 2] = s * (R[6]! * x + R[7]! * y + R[8]! * z);
  }
  return { ...m, positions: out };
}
