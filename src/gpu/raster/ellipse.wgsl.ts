/**
 * Exact ellipse–tile binning shared by the project (count) and emit (write) kernels, so both
 * visit the same tiles. The ellipse is dᵀΣ'⁻¹d ≤ k² (k² = 2·ln(255·o)): outside it alpha < 1/255.
 * Per tile row, the x-range of the ellipse over the row's y-band is exact (the extreme lies on
 * the band edge nearest the ellipse's own x-extreme point), widened by half a pixel so f32
 * rounding can never drop a tile the f64 reference would use.
 */
export const ellipseWgsl = /* wgsl */ `
fn bandXRange(mx: f32, my: f32, e: vec4f, y0: f32, y1: f32) -> vec2f {
  let sxx = e.x; let sxy = e.y; let syy = e.z; let k2 = e.w;
  let ry = sqrt(k2 * syy);
  let a = clamp(y0 - my, -ry, ry);
  let b = clamp(y1 - my, -ry, ry);
  let slope = sxy / syy;
  let cond = max(0.0, sxx - sxy * slope);
  let rx = sqrt(k2 * sxx);
  let dyStar = sxy * sqrt(k2 / sxx);
  var xmax: f32;
  var xmin: f32;
  if (dyStar >= a && dyStar <= b) {
    xmax = mx + rx;
  } else {
    let d = clamp(dyStar, a, b);
    xmax = mx + slope * d + sqrt(max(0.0, cond * (k2 - d * d / syy)));
  }
  if (-dyStar >= a && -dyStar <= b) {
    xmin = mx - rx;
  } else {
    let d = clamp(-dyStar, a, b);
    xmin = mx + slope * d - sqrt(max(0.0, cond * (k2 - d * d / syy)));
  }
  return vec2f(max(xmin, mx - rx) - 0.5, min(xmax, mx + rx) + 0.5);
}

// Tile rows [y.x, y.y] touched by the ellipse (inclusive; empty when y.x > y.y).
fn tileRows(my: f32, e: vec4f) -> vec2i {
  let ry = sqrt(e.w * e.z) + 0.5;
  let lo = clamp(floor((my - ry) / 16.0), 0.0, f32(cam.cfg.z - 1u));
  let hi = clamp(floor((my + ry) / 16.0), -1.0, f32(cam.cfg.z - 1u));
  return vec2i(i32(lo), i32(hi));
}

// Tile columns [x.x, x.y] touched by the ellipse within tile row ty.
fn tileCols(mx: f32, my: f32, e: vec4f, ty: i32) -> vec2i {
  let xr = bandXRange(mx, my, e, f32(ty) * 16.0, f32(ty) * 16.0 + 16.0);
  let lo = clamp(floor(xr.x / 16.0), 0.0, f32(cam.cfg.y));
  let hi = clamp(floor(xr.y / 16.0), -1.0, f32(cam.cfg.y - 1u));
  return vec2i(i32(lo), i32(hi));
}
`;
