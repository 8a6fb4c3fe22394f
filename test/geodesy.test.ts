import { describe, it, expect } from 'vitest';
import { WGS84_A, WGS84_B, ecefToGeodetic, enuToGeodetic, geodeticToEcef, geodeticToEnu } from '../src/geometry/geodesy.js';

describe('geodesy (WGS84)', () => {
  it('maps known points to their ECEF coordinates', () => {
    const eq = geodeticToEcef({ lat: 0, lon: 0, alt: 0 });
    expect(eq[0]).toBeCloseTo(WGS84_A, 6);
    expect(eq[1]).toBeCloseTo(0, 6);
    expect(eq[2]).toBeCloseTo(0, 6);
    const east = geodeticToEcef({ lat: 0, lon: 90, alt: 100 });
    expect(east[0]).toBeCloseTo(0, 6);
    expect(east[1]).toBeCloseTo(WGS84_A + 100, 6);
    const pole = geodeticToEcef({ lat: 90, lon: 0, alt: 0 });
    expect(pole[2]).toBeCloseTo(6356752.314245, 5);
    expect(WGS84_B).toBeCloseTo(6356752.314245, 5);
    // Elsewhere, against the textbook form through the reduced (parametric) latitude β,
    // tan β = (1 − f) tan φ: x = (a cos β + h cos φ) cos λ, z = b sin β + h sin φ.
    for (const [latD, lonD, h] of [[47.3769, 8.5417, 408], [-33.8688, 151.2093, 58], [55.698166, 13.195389, 37]] as const) {
      const phi = (latD * Math.PI) / 180, lam = (lonD * Math.PI) / 180;
      const beta = Math.atan((WGS84_B / WGS84_A) * Math.tan(phi));
      const r = WGS84_A * Math.cos(beta) + h * Math.cos(phi);
      const p = geodeticToEcef({ lat: latD, lon: lonD, alt: h });
      expect(p[0]).toBeCloseTo(r * Math.cos(lam), 4);
      expect(p[1]).toBeCloseTo(r * Math.sin(lam), 4);
      expect(p[2]).toBeCloseTo(WGS84_B * Math.sin(beta) + h * Math.sin(phi), 4);
      // and the ECEF point is ~6.37e6 m from the centre
      expect(Math.hypot(...p)).toBeGreaterThan(6.35e6);
      expect(Math.hypot(...p)).toBeLessThan(6.38e6);
    }
  });

  it('inverts ECEF back to latitude, longitude and altitude', () => {
    for (const g of [
      { lat: 55.698166, lon: 13.195389, alt: 37 },
      { lat: -33.8688, lon: 151.2093, alt: 58 },
      { lat: 89.9, lon: -120, alt: 3000 },
      { lat: 0, lon: 180, alt: -50 },
    ]) {
      const back = ecefToGeodetic(geodeticToEcef(g));
      expect(back.lat).toBeCloseTo(g.lat, 9);
      expect(((back.lon - g.lon + 540) % 360) - 180).toBeCloseTo(0, 9);
      expect(back.alt).toBeCloseTo(g.alt, 4);
    }
  });

  it('gives East-North-Up metres about an origin', () => {
    const o = { lat: 55.7, lon: 13.2, alt: 40 };
    // One arc-second of latitude is ~30.9 m at this latitude; of longitude ~30.9·cos(lat).
    const n = geodeticToEnu({ lat: 55.7 + 1 / 3600, lon: 13.2, alt: 40 }, o);
    expect(n[0]).toBeCloseTo(0, 6);
    expect(n[1]).toBeGreaterThan(30.8);
    expect(n[1]).toBeLessThan(31.0);
    expect(Math.abs(n[2])).toBeLessThan(0.001); // Earth curvature over 31 m: ~0.08 mm
    const e = geodeticToEnu({ lat: 55.7, lon: 13.2 + 1 / 3600, alt: 40 }, o);
    expect(e[0]).toBeCloseTo(30.92 * Math.cos((55.7 * Math.PI) / 180), 1);
    expect(e[1]).toBeCloseTo(0, 3);
    const up = geodeticToEnu({ lat: 55.7, lon: 13.2, alt: 50 }, o);
    expect(up[0]).toBeCloseTo(0, 9);
    expect(up[1]).toBeCloseTo(0, 9);
    expect(up[2]).toBeCloseTo(10, 6);
    const g = enuToGeodetic([123.4, -56.7, 8.9], o);
    const v = geodeticToEnu(g, o);
    expect(v[0]).toBeCloseTo(123.4, 6);
    expect(v[1]).toBeCloseTo(-56.7, 6);
    expect(v[2]).toBeCloseTo(8.9, 6);
  });
});
