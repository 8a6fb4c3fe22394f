/**
 * Real spherical-harmonics basis up to degree 3 (the 3DGS constants and sign conventions), its
 * derivative with respect to the (unit) direction, and SH → RGB for one Gaussian. The WGSL
 * kernels mirror these formulas line by line (src/gpu/raster/common.wgsl.ts).
 */

export const SH_C0 = 0.28209479177387814;
export const SH_C1 = 0.4886025119029199;
export const SH_C2 = [1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396] as const;
export const SH_C3 = [
  -0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277,
  -0.5900435899266435,
] as const;

/** Basis values Y_k(x, y, z) for k < (degree+1)², written into out[0..15] (rest zeroed). */
export function shBasis(degree: number, x: number, y: number, z: number, out: Float64Array): void {
  out.fill(0);
  out[0] = SH_C0;
  if (degree < 1) return;
  out[1] = -SH_C1 * y;
  out[2] = SH_C1 * z;
  out[3] = -SH_C1 * x;
  if (degree < 2) return;
  const xx = x * x, yy = y * y, zz = z * z;
  out[4] = SH_C2[0] * x * y;
  out[5] = SH_C2[1] * y * z;
  out[6] = SH_C2[2] * (2 * zz - xx - yy);
  out[7] = SH_C2[3] * x * z;
  out[8] = SH_C2[4] * (xx - yy);
  if (degree < 3) return;
  out[9] = SH_C3[0] * y * (3 * xx - yy);
  out[10] = SH_C3[1] * x * y * z;
  out[11] = SH_C3[2] * y * (4 * zz - xx - yy);
  out[12] = SH_C3[3] * z * (2 * zz - 3 * xx - 3 * yy);
  out[13] = SH_C3[4] * x * (4 * zz - xx - yy);
  out[14] = SH_C3[5] * z * (xx - yy);
  out[15] = SH_C3[6] * x * (xx - 3 * yy);
}

/**
 * Σ_k dY[k] · ∂Y_k/∂(x, y, z): the polynomial derivative (the caller chains it through the
 * normalisation of the direction).
 */
export function shBasisBackward(degree: number, x: number, y: number, z: number, dY: ArrayLike<number>): [number, number, number] {
  let gx = 0, gy = 0, gz = 0;
  if (degree < 1) return [0, 0, 0];
  gy += -SH_C1 * dY[1]!;
  gz += SH_C1 * dY[2]!;
  gx += -SH_C1 * dY[3]!;
  if (degree >= 2) {
    gx += SH_C2[0] * y * dY[4]!;
    gy += SH_C2[0] * x * dY[4]!;
    gy += SH_C2[1] * z * dY[5]!;
    gz += SH_C2[1] * y * dY[5]!;
    gx += -2 * SH_C2[2] * x * dY[6]!;
    gy += -2 * SH_C2[2] * y * dY[6]!;
    gz += 4 * SH_C2[2] * z * dY[6]!;
    gx += SH_C2[3] * z * dY[7]!;
    gz += SH_C2[3] * x * dY[7]!;
    gx += 2 * SH_C2[4] * x * dY[8]!;
    gy += -2 * SH_C2[4] * y * dY[8]!;
  }
  if (degree >= 3) {
    const xx = x * x, yy = y * y, zz = z * z;
    gx += 6 * SH_C3[0] * x * y * dY[9]!;
    gy += SH_C3[0] * (3 * xx - 3 * yy) * dY[9]!;
    gx += SH_C3[1] * y * z * dY[10]!;
    gy += SH_C3[1] * x * z * dY[10]!;
    gz += SH_C3[1] * x * y * dY[10]!;
    gx += -2 * SH_C3[2] * x * y * dY[11]!;
    gy += SH_C3[2] * (4 * zz - xx - 3 * yy) * dY[11]!;
    gz += 8 * SH_C3[2] * y * z * dY[11]!;
    gx += -6 * SH_C3[3] * x * z * dY[12]!;
    gy += -6 * SH_C3[3] * y * z * dY[12]!;
    gz += SH_C3[3] * (6 * zz - 3 * xx - 3 * yy) * dY[12]!;
    gx += SH_C3[4] * (4 * zz - 3 * xx - yy) * dY[13]!;
    gy += -2 * SH_C3[4] * x * y * dY[13]!;
    gz += 8 * SH_C3[4] * x * z * dY[13]!;
    gx += 2 * SH_C3[5] * x * z * dY[14]!;
    gy += -2 * SH_C3[5] * y * z * dY[14]!;
    gz += SH_C3[5] * (xx - yy) * dY[14]!;
    gx += SH_C3[6] * (3 * xx - 3 * yy) * dY[15]!;
    gy += -6 * SH_C3[6] * x * y * dY[15]!;
  }
  return [gx, gy, gz];
}
