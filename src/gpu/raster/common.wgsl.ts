/**
 * WGSL shared by the raster kernels: the camera uniform, the projected-splat record, and the
 * per-Gaussian geometry (the same formulas as src/scene/raster/projection.ts, in f32).
 */

/** Camera/options uniform layout; packCamera() in camera.ts writes it. */
export const camStruct = /* wgsl */ `
struct Cam {
  r0: vec4f,      // rows of the world-to-camera rotation; w = translation
  r1: vec4f,
  r2: vec4f,
  campos: vec4f,  // camera centre in world coordinates
  intr: vec4f,    // fx, fy, cx, cy
  lims: vec4f,    // tan-space clamp: +x, −x, +y, −y
  img: vec4f,     // width, height, near, far
  bg: vec4f,      // background rgb, eps2d
  cfg: vec4u,     // gaussian count, tilesX, tilesY, flags (bit 0 antialiased, bits 8.. SH degree)
}

// Projected Gaussian: m = (mean x, mean y, depth, opacity; opacity 0 = culled),
// conic = (a, b, c, 0) of the inverse dilated 2D covariance, color = (r, g, b, 0).
struct Splat {
  m: vec4f,
  conic: vec4f,
  color: vec4f,
}

const ALPHA_MIN: f32 = 0.00392156862745098; // 1/255
const ALPHA_MAX: f32 = 0.99;
const T_MIN: f32 = 1e-4;
const TILE: u32 = 16u;

// Finiteness by bit test: WGSL lets a compiler assume floats are finite, so comparisons such as
// !(x > 0.0) may not catch a NaN once optimised; an exponent of all ones is Inf or NaN.
fn finite1(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn finite3(v: vec3f) -> bool { return finite1(v.x) && finite1(v.y) && finite1(v.z); }
fn finite4(v: vec4f) -> bool { return finite3(v.xyz) && finite1(v.w); }
`;

/** Geometry of one Gaussian (needs bindings named means, logScales, quats and uniform cam). */
export const geometryWgsl = /* wgsl */ `
struct Geo {
  p: vec3f,        // camera-space mean
  qn: vec4f,       // normalised quaternion (w, x, y, z)
  qnorm: f32,
  rot: mat3x3f,
  s: vec3f,
  M: mat3x3f,      // rot · diag(s)
  covC: mat3x3f,   // camera-space 3D covariance
  u: f32,          // clamped x/z
  v: f32,
  clampX: bool,
  clampY: bool,
  j0: vec3f,       // rows of the 2×3 projection Jacobian
  j1: vec3f,
  s2: vec3f,       // undilated 2D covariance (xx, xy, yy)
  ok: bool,
}

fn camR() -> mat3x3f {
  return transpose(mat3x3f(cam.r0.xyz, cam.r1.xyz, cam.r2.xyz));
}

fn quatRot(q: vec4f) -> mat3x3f {
  let w = q.x; let x = q.y; let y = q.z; let z = q.w;
  let row0 = vec3f(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z), 2.0 * (x * z + w * y));
  let row1 = vec3f(2.0 * (x * y + w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x));
  let row2 = vec3f(2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y));
  return transpose(mat3x3f(row0, row1, row2));
}

fn loadMean(i: u32) -> vec3f {
  return vec3f(means[3u * i], means[3u * i + 1u], means[3u * i + 2u]);
}

fn geometry(i: u32) -> Geo {
  var g: Geo;
  g.ok = false;
  let R = camR();
  let m = loadMean(i);
  let q = vec4f(quats[4u * i], quats[4u * i + 1u], quats[4u * i + 2u], quats[4u * i + 3u]);
  let ls = vec3f(logScales[3u * i], logScales[3u * i + 1u], logScales[3u * i + 2u]);
  if (!finite3(m) || !finite4(q) || !finite3(ls)) { return g; }
  g.p = R * m + vec3f(cam.r0.w, cam.r1.w, cam.r2.w);
  let z = g.p.z;
  if (!finite1(z) || z < cam.img.z || z > cam.img.w) { return g; }
  g.qnorm = length(q);
  if (!finite1(g.qnorm) || g.qnorm <= 1e-12) { return g; }
  g.qn = q / g.qnorm;
  g.rot = quatRot(g.qn);
  g.s = exp(ls);
  g.M = mat3x3f(g.rot[0] * g.s.x, g.rot[1] * g.s.y, g.rot[2] * g.s.z);
  let RM = R * g.M;
  g.covC = RM * transpose(RM);
  let rx = g.p.x / z;
  let ry = g.p.y / z;
  g.u = min(cam.lims.x, max(-cam.lims.y, rx));
  g.v = min(cam.lims.z, max(-cam.lims.w, ry));
  g.clampX = g.u != rx;
  g.clampY = g.v != ry;
  let fx = cam.intr.x;
  let fy = cam.intr.y;
  g.j0 = vec3f(fx / z, 0.0, -fx * g.u / z);
  g.j1 = vec3f(0.0, fy / z, -fy * g.v / z);
  let c0 = g.covC * g.j0;
  let c1 = g.covC * g.j1;
  g.s2 = vec3f(dot(g.j0, c0), dot(g.j0, c1), dot(g.j1, c1));
  g.ok = true;
  return g;
}

fn shDegree() -> u32 { return (cam.cfg.w >> 8u) & 255u; }
fn antialiased() -> bool { return (cam.cfg.w & 1u) != 0u; }

const SH_C0: f32 = 0.28209479177387814;
const SH_C1: f32 = 0.4886025119029199;
const SH_C2 = array<f32, 5>(1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396);
const SH_C3 = array<f32, 7>(-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277, -0.5900435899266435);

fn shBasis(deg: u32, d: vec3f) -> array<f32, 16> {
  var Y: array<f32, 16>;
  Y[0] = SH_C0;
  if (deg < 1u) { return Y; }
  let x = d.x; let y = d.y; let z = d.z;
  Y[1] = -SH_C1 * y;
  Y[2] = SH_C1 * z;
  Y[3] = -SH_C1 * x;
  if (deg < 2u) { return Y; }
  let xx = x * x; let yy = y * y; let zz = z * z;
  Y[4] = SH_C2[0] * x * y;
  Y[5] = SH_C2[1] * y * z;
  Y[6] = SH_C2[2] * (2.0 * zz - xx - yy);
  Y[7] = SH_C2[3] * x * z;
  Y[8] = SH_C2[4] * (xx - yy);
  if (deg < 3u) { return Y; }
  Y[9] = SH_C3[0] * y * (3.0 * xx - yy);
  Y[10] = SH_C3[1] * x * y * z;
  Y[11] = SH_C3[2] * y * (4.0 * zz - xx - yy);
  Y[12] = SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy);
  Y[13] = SH_C3[4] * x * (4.0 * zz - xx - yy);
  Y[14] = SH_C3[5] * z * (xx - yy);
  Y[15] = SH_C3[6] * x * (xx - 3.0 * yy);
  return Y;
}

fn viewDir(i: u32) -> vec3f {
  return loadMean(i) - cam.campos.xyz;
}

/** Unclamped colour 0.5 + Σ sh·Y (callers clamp at 0). */
fn shColorRaw(i: u32, deg: u32, Y: array<f32, 16>) -> vec3f {
  var c = vec3f(0.5);
  let K = (deg + 1u) * (deg + 1u);
  for (var k = 0u; k < K; k++) {
    let o = i * 48u + k * 3u;
    c += vec3f(sh[o], sh[o + 1u], sh[o + 2u]) * Y[k];
  }
  return c;
}
`;
