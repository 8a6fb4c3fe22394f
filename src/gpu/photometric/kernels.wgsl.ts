/**
 * The WGSL sources of the photometric kernels (apply.ts drives them; its header describes the four
 * kernels) and the sizes they share with the host code.
 */
import { RESPONSE_SEGMENTS } from '../../core/photometric.js';

export const K = RESPONSE_SEGMENTS;
/** gradient floats per view: ev (1), wb (3), vig (3), resp (K) */
export const PHOTOMETRIC_GRADS = 7 + K;
/** per-pixel accumulated terms in the backward pass */
export const NV = 6 + 2 * K;
export const WG = 256;
export const BWG = 64; // backward workgroup (its NV-wide tree must fit 16 KiB of workgroup memory)
export const PPT = 4; // pixels per backward thread
export const PPW = BWG * PPT;
export const f32 = 4;

const common = /* wgsl */ `
struct P {
  W: u32, H: u32, groups: u32, flags: u32,
  evOff: u32, wbOff: u32, vigOff: u32, respOff: u32,
  cx: f32, cy: f32, norm: f32, reg: f32,
  lr: vec4f, bc1: vec4f, bc2: vec4f,
  b1: f32, b2: f32, omb1: f32, omb2: f32,
  eps: f32, _a: u32, _b: u32, _c: u32,
}
@group(0) @binding(0) var<uniform> p: P;
const K: u32 = ${K}u;
const KF: f32 = ${K}.0;
const NV: u32 = ${NV}u;
const LN2: f32 = ${Math.LN2};
`;

/** gain_c = exp(wb_c + ev·ln2); insert after the declaration of prm */
const gainsFn = /* wgsl */ `
fn gains() -> vec3f {
  let wb = vec3f(prm[p.wbOff], prm[p.wbOff + 1u], prm[p.wbOff + 2u]);
  return exp(wb + prm[p.evOff] * LN2);
}
`;

/** r², vignetting and the response curve's tables (shared by forward and backward). */
const pixelFns = /* wgsl */ `
fn radius2(q: u32) -> f32 {
  let x = f32(q % p.W) + 0.5 - p.cx;
  let y = f32(q / p.W) + 0.5 - p.cy;
  return (x * x + y * y) / p.norm;
}
fn segment(xk: f32) -> f32 { return clamp(floor(xk), 0.0, KF - 1.0); }
`;

export const forwardWgsl = common + pixelFns + /* wgsl */ `
@group(0) @binding(1) var<storage, read> prm: array<f32>;
@group(0) @binding(2) var<storage, read> rgb: array<f32>;
@group(0) @binding(3) var<storage, read_write> outp: array<f32>;
${gainsFn}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = gid.x + gid.y * nwg.x * ${WG}u;
  if (q >= p.W * p.H) { return; }
  var sl: array<f32, ${K}>;
  var cum: array<f32, ${K}>;
  var acc = 0.0;
  for (var k = 0u; k < K; k++) { sl[k] = exp(prm[p.respOff + k]); cum[k] = acc; acc += sl[k] / KF; }
  let g = gains();
  let a = prm[p.vigOff]; let b = prm[p.vigOff + 1u]; let c = prm[p.vigOff + 2u];
  let r2 = radius2(q);
  let r4 = r2 * r2;
  let vig = r2 * a + r4 * b + r4 * r2 * c + 1.0;
  for (var ch = 0u; ch < 3u; ch++) {
    let i = q * 3u + ch;
    let xk = rgb[i] * vig * g[ch] * KF;
    let jf = segment(xk);
    let j = u32(jf);
    outp[i] = cum[j] + ((xk - jf) * sl[j]) / KF;
  }
}
`;

export const backwardWgsl = common + pixelFns + /* wgsl */ `
@group(0) @binding(1) var<storage, read> prm: array<f32>;
@group(0) @binding(2) var<storage, read> rgb: array<f32>;
@group(0) @binding(3) var<storage, read> dOut: array<f32>;
@group(0) @binding(4) var<storage, read_write> dRgb: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
${gainsFn}
var<workgroup> red: array<f32, ${BWG * NV}>;

@compute @workgroup_size(${BWG})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let wg = wid.x + wid.y * nwg.x;
  var sl: array<f32, ${K}>;
  for (var k = 0u; k < K; k++) { sl[k] = exp(prm[p.respOff + k]); }
  let g = gains();
  let va = prm[p.vigOff]; let vb = prm[p.vigOff + 1u]; let vc = prm[p.vigOff + 2u];
  // [0..3): Σ dx·rgb·vig per channel, [3..6): Σ dV·(r², r⁴, r⁶), [6..6+K): Σ dy per segment,
  // [6+K..6+2K): Σ dy·(K·lin − j) per segment
  var acc: array<f32, ${NV}>;
  let n = p.W * p.H;
  for (var t = 0u; t < ${PPT}u; t++) {
    let q = wg * ${PPW}u + t * ${BWG}u + lid;
    if (q < n) {
      let r2 = radius2(q);
      let r4 = r2 * r2;
      let vig = r2 * va + r4 * vb + r4 * r2 * vc + 1.0;
      var dV = 0.0;
      for (var ch = 0u; ch < 3u; ch++) {
        let i = q * 3u + ch;
        let a = rgb[i];
        let xk = a * vig * g[ch] * KF;
        let jf = segment(xk);
        let j = u32(jf);
        let dy = dOut[i];
        let dx = dy * sl[j];
        dRgb[i] = dx * g[ch] * vig;
        acc[ch] += dx * a * vig;
        dV += dx * a * g[ch];
        acc[6u + j] += dy;
        acc[6u + K + j] += dy * (xk - jf);
      }
      acc[3] += dV * r2;
      acc[4] += dV * r4;
      acc[5] += dV * (r4 * r2);
    }
  }
  for (var v = 0u; v < NV; v++) { red[lid * NV + v] = acc[v]; }
  workgroupBarrier();
  // fixed-shape tree: deterministic
  for (var s = ${BWG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      for (var v = 0u; v < NV; v++) { red[lid * NV + v] += red[(lid + s) * NV + v]; }
    }
    workgroupBarrier();
  }
  if (lid == 0u && wg < p.groups) {
    for (var v = 0u; v < NV; v++) { partials[wg * NV + v] = red[v]; }
  }
}
`;

export const reduceWgsl = common + /* wgsl */ `
@group(0) @binding(1) var<storage, read> prm: array<f32>;
@group(0) @binding(2) var<storage, read> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
${gainsFn}
var<workgroup> red: array<f32, ${WG}>;
var<workgroup> tot: array<f32, ${NV}>;

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var v = 0u; v < NV; v++) {
    var a = 0.0;
    for (var k = lid; k < p.groups; k += ${WG}u) { a += partials[k * NV + v]; }
    red[lid] = a;
    workgroupBarrier();
    for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
      if (lid < s) { red[lid] += red[lid + s]; }
      workgroupBarrier();
    }
    if (lid == 0u) { tot[v] = red[0]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let g = gains();
    grad[0] = (tot[0] * g.x + tot[1] * g.y + tot[2] * g.z) * LN2;
    for (var c = 0u; c < 3u; c++) { grad[1u + c] = tot[c] * g[c]; grad[4u + c] = tot[3u + c]; }
    // cum[j] = Σ_{k<j} exp(p_k)/K: segment k also collects the Σdy of every segment above it
    var tail = 0.0;
    for (var kk = 0u; kk < K; kk++) {
      let k = K - 1u - kk;
      if (k + 1u < K) { tail += tot[6u + k + 1u]; }
      let dSl = (tot[6u + K + k] + tail) / KF;
      grad[7u + k] = dSl * exp(prm[p.respOff + k]);
    }
  }
}
`;

/** One thread per parameter of the view: ev, wb0..2 (flag 1), vig0..2, resp0..K−1 (flag 2). */
export const adamWgsl = common + /* wgsl */ `
@group(0) @binding(1) var<storage, read_write> prm: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> grad: array<f32>;

@compute @workgroup_size(32)
fn main(@builtin(local_invocation_index) t: u32) {
  if (t >= ${PHOTOMETRIC_GRADS}u) { return; }
  var idx: u32; var grp: u32;
  if (t == 0u) { idx = p.evOff; grp = 0u; }
  else if (t < 4u) { idx = p.wbOff + t - 1u; grp = 1u; }
  else if (t < 7u) { idx = p.vigOff + t - 4u; grp = 2u; }
  else { idx = p.respOff + t - 7u; grp = 3u; }
  let on = select(p.flags & 2u, p.flags & 1u, grp < 2u);
  if (on == 0u) { return; }
  // the regulariser λ·Σp² toward identity: 2λ·p
  let x = prm[idx];
  let gr = grad[t] + p.reg * x;
  let mi = p.b1 * m[idx] + p.omb1 * gr;
  let vi = p.b2 * v[idx] + p.omb2 * gr * gr;
  m[idx] = mi;
  v[idx] = vi;
  prm[idx] = x - (p.lr[grp] * (mi / p.bc1[grp])) / (sqrt(vi / p.bc2[grp]) + p.eps);
}
`;

