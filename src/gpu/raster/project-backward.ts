/**
 * Backward of the projection: per Gaussian, from ∂L/∂(mean2d, conic, opacity, colour, depth) to
 * ∂L/∂(mean, log-scale, quaternion, opacity logit, SH) and a per-Gaussian share of the pose
 * gradient, then a fixed-order tree reduction of those shares to the 6-vector [dω, dv].
 * Formulas mirror projectBackward() in src/scene/raster/projection.ts.
 *
 * Within WebGPU's default 8 storage buffers per stage: the per-Gaussian outputs other than SH go
 * to one buffer in sections (gradSections(): means, log-scales, quaternions, opacity logits,
 * screen-space gradient norms, pose shares), each starting on a 256-byte boundary so callers bind
 * a section directly as a buffer range; the SH gradient has its own buffer (it is the largest).
 * Gaussians without instances (grad2d's flag, written by the backward gather) get exact zeros.
 */
import { bindGroup, computePipeline, dispatch, type BufferRange } from '../buffers.js';
import type { UniformCache } from '../uniforms.js';
import { camStruct, geometryWgsl } from './common.wgsl.js';
import { sceneBindings } from './project.js';

const shBackwardWgsl = /* wgsl */ `
fn shBasisBackward(deg: u32, d: vec3f, dY: array<f32, 16>) -> vec3f {
  var g = vec3f(0.0);
  if (deg < 1u) { return g; }
  let x = d.x; let y = d.y; let z = d.z;
  g.y += -SH_C1 * dY[1];
  g.z += SH_C1 * dY[2];
  g.x += -SH_C1 * dY[3];
  if (deg < 2u) { return g; }
  g.x += SH_C2[0] * y * dY[4];
  g.y += SH_C2[0] * x * dY[4];
  g.y += SH_C2[1] * z * dY[5];
  g.z += SH_C2[1] * y * dY[5];
  g.x += -2.0 * SH_C2[2] * x * dY[6];
  g.y += -2.0 * SH_C2[2] * y * dY[6];
  g.z += 4.0 * SH_C2[2] * z * dY[6];
  g.x += SH_C2[3] * z * dY[7];
  g.z += SH_C2[3] * x * dY[7];
  g.x += 2.0 * SH_C2[4] * x * dY[8];
  g.y += -2.0 * SH_C2[4] * y * dY[8];
  if (deg < 3u) { return g; }
  let xx = x * x; let yy = y * y; let zz = z * z;
  g.x += 6.0 * SH_C3[0] * x * y * dY[9];
  g.y += SH_C3[0] * (3.0 * xx - 3.0 * yy) * dY[9];
  g.x += SH_C3[1] * y * z * dY[10];
  g.y += SH_C3[1] * x * z * dY[10];
  g.z += SH_C3[1] * x * y * dY[10];
  g.x += -2.0 * SH_C3[2] * x * y * dY[11];
  g.y += SH_C3[2] * (4.0 * zz - xx - 3.0 * yy) * dY[11];
  g.z += 8.0 * SH_C3[2] * y * z * dY[11];
  g.x += -6.0 * SH_C3[3] * x * z * dY[12];
  g.y += -6.0 * SH_C3[3] * y * z * dY[12];
  g.z += SH_C3[3] * (6.0 * zz - 3.0 * xx - 3.0 * yy) * dY[12];
  g.x += SH_C3[4] * (4.0 * zz - 3.0 * xx - yy) * dY[13];
  g.y += -2.0 * SH_C3[4] * x * y * dY[13];
  g.z += 8.0 * SH_C3[4] * x * z * dY[13];
  g.x += 2.0 * SH_C3[5] * x * z * dY[14];
  g.y += -2.0 * SH_C3[5] * y * z * dY[14];
  g.z += SH_C3[5] * (xx - yy) * dY[14];
  g.x += SH_C3[6] * (3.0 * xx - 3.0 * yy) * dY[15];
  g.y += -6.0 * SH_C3[6] * x * y * dY[15];
  return g;
}
`;

/** Floats per Gaussian of each section of the packed gradient buffer, in buffer order. */
const SECTION_ROWS = { means: 3, logScales: 3, quats: 4, opacity: 1, m2d: 1, pose: 6 } as const;
type SectionName = keyof typeof SECTION_ROWS;
/** Sections start on 64-float (256-byte) boundaries: WebGPU's minStorageBufferOffsetAlignment. */
const ALIGN_FLOATS = 64;
const alignFloats = (x: number) => Math.ceil(x / ALIGN_FLOATS) * ALIGN_FLOATS;

/** Float offsets of each section for n Gaussians, and the buffer's total floats. */
export function gradSections(n: number): Record<SectionName, number> & { total: number } {
  let at = 0;
  const out = {} as Record<SectionName, number> & { total: number };
  for (const [name, rows] of Object.entries(SECTION_ROWS) as [SectionName, number][]) {
    out[name] = at;
    at = alignFloats(at + rows * n);
  }
  out.total = Math.max(ALIGN_FLOATS, at);
  return out;
}

/** The packed buffer's sections as buffer ranges (what GpuGradients hands out). */
export function gradSectionRanges(buffer: GPUBuffer, n: number): Record<SectionName, BufferRange> {
  const sec = gradSections(n);
  const out = {} as Record<SectionName, BufferRange>;
  for (const [name, rows] of Object.entries(SECTION_ROWS) as [SectionName, number][]) {
    out[name] = { buffer, offset: sec[name] * 4, size: Math.max(16, rows * n * 4) };
  }
  return out;
}

/** The same offsets in WGSL (from the Gaussian count in the camera uniform). */
const sectionsWgsl = /* wgsl */ `
struct Sections { means: u32, logScales: u32, quats: u32, opacity: u32, m2d: u32, pose: u32 }
fn alignSec(x: u32) -> u32 { return (x + ${ALIGN_FLOATS - 1}u) / ${ALIGN_FLOATS}u * ${ALIGN_FLOATS}u; }
fn sections(n: u32) -> Sections {
  var s: Sections;
  s.means = 0u;
  s.logScales = alignSec(s.means + ${SECTION_ROWS.means}u * n);
  s.quats = alignSec(s.logScales + ${SECTION_ROWS.logScales}u * n);
  s.opacity = alignSec(s.quats + ${SECTION_ROWS.quats}u * n);
  s.m2d = alignSec(s.opacity + ${SECTION_ROWS.opacity}u * n);
  s.pose = alignSec(s.m2d + ${SECTION_ROWS.m2d}u * n);
  return s;
}
`;

const wgsl = /* wgsl */ `
${camStruct}
@group(0) @binding(0) var<uniform> cam: Cam;
${sceneBindings(1)}
@group(0) @binding(6) var<storage, read> grad2d: array<f32>;
@group(0) @binding(7) var<storage, read_write> gPacked: array<f32>;
@group(0) @binding(8) var<storage, read_write> gSh: array<f32>;
${geometryWgsl}
${sectionsWgsl}
${shBackwardWgsl}

fn outer3(a: vec3f, b: vec3f) -> mat3x3f {
  return mat3x3f(a * b.x, a * b.y, a * b.z);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let n = cam.cfg.x;
  if (i >= n) { return; }
  let sec = sections(n);
  for (var k = 0u; k < 3u; k++) { gPacked[sec.means + 3u * i + k] = 0.0; gPacked[sec.logScales + 3u * i + k] = 0.0; }
  for (var k = 0u; k < 4u; k++) { gPacked[sec.quats + 4u * i + k] = 0.0; }
  for (var k = 0u; k < 48u; k++) { gSh[48u * i + k] = 0.0; }
  for (var k = 0u; k < 6u; k++) { gPacked[sec.pose + 6u * i + k] = 0.0; }
  gPacked[sec.opacity + i] = 0.0;
  gPacked[sec.m2d + i] = 0.0;
  let o = i * 11u;
  if (grad2d[o + 10u] == 0.0) { return; }
  let g = geometry(i);
  if (!g.ok) { return; }
  let gmx = grad2d[o]; let gmy = grad2d[o + 1u];
  let ga = grad2d[o + 2u]; let gb = grad2d[o + 3u]; let gc = grad2d[o + 4u];
  let gop = grad2d[o + 5u];
  let gcol = vec3f(grad2d[o + 6u], grad2d[o + 7u], grad2d[o + 8u]);
  let gdepth = grad2d[o + 9u];
  gPacked[sec.m2d + i] = length(vec2f(gmx, gmy));
  let eps = cam.bg.w;
  let sxx = g.s2.x + eps;
  let sxy = g.s2.y;
  let syy = g.s2.z + eps;
  let det = sxx * syy - sxy * sxy;
  let Q = mat2x2f(syy / det, -sxy / det, -sxy / det, sxx / det);
  let sig = 1.0 / (1.0 + exp(-opacityLogits[i]));
  var comp = 1.0;
  if (antialiased()) {
    let det0 = g.s2.x * g.s2.z - g.s2.y * g.s2.y;
    comp = sqrt(max(0.0, det0 / det));
  }
  gPacked[sec.opacity + i] = gop * comp * sig * (1.0 - sig);
  let Gm = mat2x2f(ga, 0.5 * gb, 0.5 * gb, gc);
  var dS = (Q * Gm * Q) * -1.0;
  if (antialiased() && comp > 1e-12) {
    let dComp2 = gop * sig / (2.0 * comp);
    dS += (eps * (Q * Q) - (eps * eps / det) * Q) * dComp2;
  }
  let r0 = dS[0][0] * g.j0 + dS[1][0] * g.j1;
  let r1 = dS[0][1] * g.j0 + dS[1][1] * g.j1;
  let dCov = outer3(g.j0, r0) + outer3(g.j1, r1);
  let dJ0 = 2.0 * (g.covC * r0);
  let dJ1 = 2.0 * (g.covC * r1);
  let x = g.p.x; let y = g.p.y; let z = g.p.z;
  let fx = cam.intr.x; let fy = cam.intr.y;
  let dudx = select(1.0 / z, 0.0, g.clampX);
  let dudz = select(-x / (z * z), 0.0, g.clampX);
  let dvdy = select(1.0 / z, 0.0, g.clampY);
  let dvdz = select(-y / (z * z), 0.0, g.clampY);
  var dp = vec3f(0.0);
  dp.x += dJ0.z * (-fx / z) * dudx;
  dp.y += dJ1.z * (-fy / z) * dvdy;
  dp.z += dJ0.x * (-fx / (z * z)) + dJ1.y * (-fy / (z * z));
  dp.z += dJ0.z * (fx * g.u / (z * z) - (fx / z) * dudz);
  dp.z += dJ1.z * (fy * g.v / (z * z) - (fy / z) * dvdz);
  dp.x += gmx * fx / z;
  dp.y += gmy * fy / z;
  dp.z += -gmx * fx * x / (z * z) - gmy * fy * y / (z * z) + gdepth;
  let R = camR();
  var dm = transpose(R) * dp;
  let Mc = g.covC * dCov;
  let dw = cross(g.p, dp) + 2.0 * vec3f(Mc[2][1] - Mc[1][2], Mc[0][2] - Mc[2][0], Mc[1][0] - Mc[0][1]);
  var dv = dp;
  let dCov3 = transpose(R) * dCov * R;
  let dM = 2.0 * (dCov3 * g.M);
  let ds = vec3f(dot(dM[0], g.rot[0]), dot(dM[1], g.rot[1]), dot(dM[2], g.rot[2]));
  let dls = ds * g.s;
  gPacked[sec.logScales + 3u * i] = dls.x; gPacked[sec.logScales + 3u * i + 1u] = dls.y; gPacked[sec.logScales + 3u * i + 2u] = dls.z;
  // gR(r, c) = dRot[c][r] with dRot columns dM[c]·s_c
  let c0 = dM[0] * g.s.x; let c1 = dM[1] * g.s.y; let c2 = dM[2] * g.s.z;
  let g00 = c0.x; let g10 = c0.y; let g20 = c0.z;
  let g01 = c1.x; let g11 = c1.y; let g21 = c1.z;
  let g02 = c2.x; let g12 = c2.y; let g22 = c2.z;
  let w = g.qn.x; let qx = g.qn.y; let qy = g.qn.z; let qz = g.qn.w;
  let dqn = vec4f(
    2.0 * (-qz * g01 + qy * g02 + qz * g10 - qx * g12 - qy * g20 + qx * g21),
    2.0 * (qy * g01 + qz * g02 + qy * g10 - w * g12 + qz * g20 + w * g21) - 4.0 * qx * (g11 + g22),
    2.0 * (qx * g01 + w * g02 + qx * g10 + qz * g12 - w * g20 + qz * g21) - 4.0 * qy * (g00 + g22),
    2.0 * (-w * g01 + qx * g02 + w * g10 + qy * g12 + qx * g20 + qy * g21) - 4.0 * qz * (g00 + g11));
  let dq = (dqn - g.qn * dot(dqn, g.qn)) / g.qnorm;
  let oq = sec.quats + 4u * i;
  gPacked[oq] = dq.x; gPacked[oq + 1u] = dq.y; gPacked[oq + 2u] = dq.z; gPacked[oq + 3u] = dq.w;
  let deg = shDegree();
  let dir = viewDir(i);
  let len = length(dir);
  let nd = dir / len;
  let Y = shBasis(deg, nd);
  let raw = shColorRaw(i, deg, Y);
  let dcol = select(gcol, vec3f(0.0), raw < vec3f(0.0));
  var dY: array<f32, 16>;
  let K = (deg + 1u) * (deg + 1u);
  for (var k = 0u; k < K; k++) {
    let off = i * 48u + k * 3u;
    gSh[off] = Y[k] * dcol.x;
    gSh[off + 1u] = Y[k] * dcol.y;
    gSh[off + 2u] = Y[k] * dcol.z;
    dY[k] = dot(vec3f(sh[off], sh[off + 1u], sh[off + 2u]), dcol);
  }
  let dn = shBasisBackward(deg, nd, dY);
  let ddir = (dn - nd * dot(nd, dn)) / len;
  dm += ddir;
  dv += R * ddir;
  gPacked[sec.means + 3u * i] = dm.x; gPacked[sec.means + 3u * i + 1u] = dm.y; gPacked[sec.means + 3u * i + 2u] = dm.z;
  let op = sec.pose + 6u * i;
  gPacked[op] = dw.x; gPacked[op + 1u] = dw.y; gPacked[op + 2u] = dw.z;
  gPacked[op + 3u] = dv.x; gPacked[op + 4u] = dv.y; gPacked[op + 5u] = dv.z;
}
`;

const reduceWgsl = /* wgsl */ `
struct P { rows: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
var<workgroup> red: array<f32, 1536>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = wid.x + wid.y * nwg.x;
  let r = block * 256u + t;
  for (var c = 0u; c < 6u; c++) {
    var v = 0.0;
    if (r < p.rows) { v = src[6u * r + c]; }
    red[c * 256u + t] = v;
  }
  workgroupBarrier();
  for (var st = 128u; st > 0u; st = st >> 1u) {
    if (t < st) {
      for (var c = 0u; c < 6u; c++) { red[c * 256u + t] += red[c * 256u + t + st]; }
    }
    workgroupBarrier();
  }
  if (t < 6u) { dst[6u * block + t] = red[t * 256u]; }
}
`;

export class ProjectBackwardStage {
  private constructor(
    readonly device: GPUDevice,
    readonly pipe: GPUComputePipeline,
    readonly reduce: GPUComputePipeline,
  ) {}

  static async create(device: GPUDevice): Promise<ProjectBackwardStage> {
    const [p, r] = await Promise.all([computePipeline(device, 'raster-project-backward', wgsl), computePipeline(device, 'raster-pose-reduce', reduceWgsl)]);
    return new ProjectBackwardStage(device, p, r);
  }

  encode(
    pass: GPUComputePassEncoder,
    camU: GPUBuffer,
    scene: GPUBuffer[],
    b: { grad2d: GPUBuffer; packed: GPUBuffer; sh: GPUBuffer },
    n: number,
  ): void {
    const bg = bindGroup(this.device, this.pipe, [camU, ...scene, b.grad2d, b.packed, b.sh]);
    dispatch(pass, this.pipe, bg, Math.ceil(n / 256));
  }

  /** Sum the n×6 rows of `a` into `dst` (6 floats); `a` and `scratch` are overwritten. */
  encodeReducePose(pass: GPUComputePassEncoder, uniforms: UniformCache, a: BufferRange, scratch: GPUBuffer, dst: GPUBuffer, n: number): void {
    let rows = n;
    let src: GPUBuffer | BufferRange = a;
    do {
      const blocks = Math.ceil(rows / 256);
      const out: GPUBuffer | BufferRange = blocks === 1 ? dst : src === a ? scratch : a;
      dispatch(pass, this.reduce, bindGroup(this.device, this.reduce, [uniforms.u32([rows]), src, out]), blocks);
      src = out;
      rows = blocks;
    } while (rows > 1);
  }
}
