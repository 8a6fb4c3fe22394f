/**
 * splats.glb: the asset's Gaussians as glTF with the ratified KHR_gaussian_splatting, written by
 * @playcanvas/splat-transform (its package declares Node ≥ 22, but its writeGlb runs on Node 20:
 * checked): a POINTS primitive, kernel "ellipse", colorSpace "srgb_rec709_display", attributes
 * POSITION, KHR_gaussian_splatting:ROTATION (x y z w), :SCALE (linear, exp of our log-scales),
 * :OPACITY (linear, sigmoid of our logits), :SH_DEGREE_0_COEF_0 and :SH_DEGREE_l_COEF_n up to the
 * degree given, plus COLOR_0 as the point-cloud fallback (test/assets-khr-splats.test.ts checks it
 * against the text and reads it back with three.js' loader). The SPZ compression extension is not
 * written: it was still a pull request (KhronosGroup/glTF#2490), not ratified; splats.spz is beside.
 * Columns follow the 3DGS .ply names the writer reads. The package is imported when first
 * needed: loading it takes seconds, which every `r2s extract` (a bad flag, --no-splats-glb) paid.
 */
import { SH_COEFFS, type GaussianParams } from '../../core/gaussians.js';

export async function splatsToGlb(p: GaussianParams, shDegree: number): Promise<Uint8Array> {
  const { Column, DataTable, MemoryFileSystem, writeGlb } = await import('@playcanvas/splat-transform');
  const n = p.count;
  const col = (name: string, f: (i: number) => number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = f(i);
    return new Column(name, a);
  };
  const cols = [
    col('x', (i) => p.means[3 * i]!), col('y', (i) => p.means[3 * i + 1]!), col('z', (i) => p.means[3 * i + 2]!),
    ...[0, 1, 2, 3].map((k) => col(`rot_${k}`, (i) => p.quats[4 * i + k]!)),
    ...[0, 1, 2].map((k) => col(`scale_${k}`, (i) => p.logScales[3 * i + k]!)),
    ...[0, 1, 2].map((k) => col(`f_dc_${k}`, (i) => p.sh[i * SH_COEFFS * 3 + k]!)),
    col('opacity', (i) => p.opacityLogits[i]!),
  ];
  const K = (shDegree + 1) ** 2 - 1;
  // f_rest is channel-major (all R, then G, then B), as in the .ply
  for (let c = 0; c < 3; c++) for (let k = 1; k <= K; k++) cols.push(col(`f_rest_${c * K + k - 1}`, (i) => p.sh[i * SH_COEFFS * 3 + 3 * k + c]!));
  const fs = new MemoryFileSystem();
  await writeGlb({ filename: 'splats.glb', dataTable: new DataTable(cols) }, fs);
  return fs.results.get('splats.glb')!;
}
