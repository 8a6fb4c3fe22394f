/**
 * WGS84 geodesy: latitude/longitude/altitude ↔ Earth-centred Earth-fixed (ECEF) ↔ local
 * East-North-Up (ENU) metres about an origin. GPS priors become ENU so that SfM can work in a
 * small, metric, locally flat frame.
 */

/** WGS84 semi-major axis (m) and flattening. */
export const WGS84_A = 6378137.0;
export const WGS84_F = 1 / 298.257223563;
export const WGS84_B = WGS84_A * (1 - WGS84_F);
/** First eccentricity squared. */
export const WGS84_E2 = WGS84_F * (2 - WGS84_F);

export interface Geodetic {
  /** degrees, north positive */
  lat: number;
  /** degrees, east positive */
  lon: number;
  /** metres above the ellipsoid (GPS altitude is close enough for local frames) */
  alt: number;
}

export type Vec3 = [number, number, number];

const DEG = Math.PI / 180;

export function geodeticToEcef(g: Geodetic): Vec3 {
  const lat = g.lat * DEG;
  const lon = g.lon * DEG;
  const sLat = Math.sin(lat);
  const cLat = Math.cos(lat);
  // Prime-vertical radius of curvature.
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * sLat * sLat);
  return [
    (n + g.alt) * cLat * Math.cos(lon),
    (n + g.alt) * cLat * Math.sin(lon),
    (n * (1 - WGS84_E2) + g.alt) * sLat,
  ];
}

/** Inverse of geodeticToEcef (Bowring's start, then a few fixed-point steps: sub-millimetre). */
export function ecefToGeodetic(p: Vec3): Geodetic {
  const [x, y, z] = p;
  const lon = Math.atan2(y, x);
  const r = Math.hypot(x, y);
  if (r < 1e-9) return { lat: z >= 0 ? 90 : -90, lon: 0, alt: Math.abs(z) - WGS84_B };
  const ep2 = (WGS84_A * WGS84_A - WGS84_B * WGS84_B) / (WGS84_B * WGS84_B);
  const theta = Math.atan2(z * WGS84_A, r * WGS84_B);
  let lat = Math.atan2(z + ep2 * WGS84_B * Math.sin(theta) ** 3, r - WGS84_E2 * WGS84_A * Math.cos(theta) ** 3);
  let alt = 0;
  for (let i = 0; i < 4; i++) {
    const s = Math.sin(lat);
    const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * s * s);
    alt = r / Math.cos(lat) - n;
    lat = Math.atan2(z, r * (1 - (WGS84_E2 * n) / (n + alt)));
  }
  return { lat: lat / DEG, lon: lon / DEG, alt };
}

/** Rows are the East, North and Up unit vectors at the origin, in ECEF. */
export function enuBasis(origin: Geodetic): [Vec3, Vec3, Vec3] {
  const lat = origin.lat * DEG;
  const lon = origin.lon * DEG;
  const sLat = Math.sin(lat), cLat = Math.cos(lat);
  const sLon = Math.sin(lon), cLon = Math.cos(lon);
  return [
    [-sLon, cLon, 0],
    [-sLat * cLon, -sLat * sLon, cLat],
    [cLat * cLon, cLat * sLon, sLat],
  ];
}

export function ecefToEnu(p: Vec3, origin: Geodetic): Vec3 {
  const o = geodeticToEcef(origin);
  const d: Vec3 = [p[0] - o[0], p[1] - o[1], p[2] - o[2]];
  const [e, n, u] = enuBasis(origin);
  return [dot(e, d), dot(n, d), dot(u, d)];
}

export function enuToEcef(v: Vec3, origin: Geodetic): Vec3 {
  const o = geodeticToEcef(origin);
  const [e, n, u] = enuBasis(origin);
  return [
    o[0] + e[0] * v[0] + n[0] * v[1] + u[0] * v[2],
    o[1] + e[1] * v[0] + n[1] * v[1] + u[1] * v[2],
    o[2] + e[2] * v[0] + n[2] * v[1] + u[2] * v[2],
  ];
}

/** Local East-North-Up metres of `g` about `origin`. */
export function geodeticToEnu(g: Geodetic, origin: Geodetic): Vec3 {
  return ecefToEnu(geodeticToEcef(g), origin);
}

export function enuToGeodetic(v: Vec3, origin: Geodetic): Geodetic {
  return ecefToGeodetic(enuToEcef(v, origin));
}

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
