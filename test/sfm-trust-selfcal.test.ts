/** Self-calibration policy (selfcal.ts), the parallax statistic (parallax.ts) and the trust warnings (trust.ts). */
import { describe, expect, it } from 'vitest';
import type { Camera } from '../src/core/camera.js';
import { decideRefinement, defaultSelfCalOptions, implausibility, summariseStd } from '../src/sfm/selfcal.js';
import { captureParallax, defaultParallaxOptions, lacksParallax, minTriangulationAngle } from '../src/sfm/low-parallax.js';
import { sfmWarnings } from '../src/sfm/trust.js';
import type { TwoViewGeometry } from '../src/sfm/types.js';

const cam = (params: number[]): Camera => ({ id: 1, model: 'SIMPLE_RADIAL', width: 706, height: 529, params });

describe('self-calibration policy', () => {
  it('refines the principal point and distortion only when the views constrain them', () => {
    const c = cam([590, 353, 264.5, 0]);
    const tight = summariseStd(c, [2, 1, 1.5, 0.001]);
    expect(tight.principalPointPx).toBe(1.5);
    expect(decideRefinement(c, tight, { principalPoint: true, distortion: true }, defaultSelfCalOptions)).toMatchObject({ principalPoint: true, distortion: true, notes: [] });
    const loose = summariseStd(c, [20, 15, 30, 0.05]);
    const d = decideRefinement(c, loose, { principalPoint: true, distortion: true }, defaultSelfCalOptions);
    expect(d.principalPoint).toBe(false);
    expect(d.distortion).toBe(false);
    expect(d.notes.join(' ')).toMatch(/principal point kept at the centre.*±30 px/);
    // nothing wanted, nothing refined
    expect(decideRefinement(c, tight, { principalPoint: false, distortion: false }, defaultSelfCalOptions)).toMatchObject({ principalPoint: false, distortion: false });
  });

  it('flags the intrinsics of the diverged forward-facing capture as implausible', () => {
    const before = cam([850, 353, 264.5, 0]);
    // issue 15: focal 1547 px, principal point ~90 px off, k1 0.86 on 706 px photos
    expect(implausibility(before, cam([1547, 440, 300, 0.86]), defaultSelfCalOptions)).toMatch(/principal point/);
    expect(implausibility(before, cam([1547, 353, 264.5, 0.86]), defaultSelfCalOptions)).toMatch(/focal moved/);
    expect(implausibility(before, cam([850, 353, 264.5, 0.86]), defaultSelfCalOptions)).toMatch(/distortion moving the image corner by 23 %/);
    expect(implausibility(before, cam([1547, 353, 264.5, 0]), defaultSelfCalOptions)).toMatch(/focal moved/);
    // fountain-like: principal point 0.8 % off, small k1, focal unchanged
    expect(implausibility(before, cam([851, 359, 262, 0.01]), defaultSelfCalOptions)).toBeNull();
  });
});

const pair = (config: TwoViewGeometry['config'], parallaxRatio: number, triAngleDeg: number): TwoViewGeometry => ({ config, inliers: new Uint32Array(200), numMatches: 100, parallaxRatio, triAngleDeg });

describe('capture parallax', () => {
  it('says a capture whose pairs all fit a homography as well as epipolar geometry has no depth', () => {
    const rot = captureParallax(Array.from({ length: 10 }, () => pair('panoramic', 1.9, 0.2)), defaultParallaxOptions);
    expect(lacksParallax(rot, defaultParallaxOptions, false)).toBe(true);
    expect(lacksParallax(rot, defaultParallaxOptions, true)).toBe(true);
    // one pair with parallax is enough: a shallow forward-facing capture must not be refused
    const shallow = captureParallax([...Array.from({ length: 10 }, () => pair('panoramic', 1.9, 0.3)), pair('panoramic', 3.5, 0.8)], defaultParallaxOptions);
    expect(lacksParallax(shallow, defaultParallaxOptions, false)).toBe(false);
    // a flat scene seen from several places: posed with a trusted focal, refused with a guessed one
    const wall = captureParallax(Array.from({ length: 10 }, () => pair('planar', 1.9, 4)), defaultParallaxOptions);
    expect(lacksParallax(wall, defaultParallaxOptions, true)).toBe(false);
    expect(lacksParallax(wall, defaultParallaxOptions, false)).toBe(true);
  });

  it('lowers the minimum triangulation angle only for low-parallax captures', () => {
    const wide = captureParallax(Array.from({ length: 10 }, (_, k) => pair('calibrated', 10, 2 + k)), defaultParallaxOptions);
    expect(minTriangulationAngle(wide, 1, defaultParallaxOptions)).toBe(1);
    const low = captureParallax(Array.from({ length: 10 }, (_, k) => pair('panoramic', 3, 0.3 + 0.1 * k)), defaultParallaxOptions);
    expect(minTriangulationAngle(low, 1, defaultParallaxOptions)).toBe(1); // default floor: nothing lowered yet
    expect(minTriangulationAngle(low, 1, { ...defaultParallaxOptions, floorTriAngleDeg: 0.25 })).toBeCloseTo(0.6, 5);
  });
});

describe('trust warnings', () => {
  const parallax = { verified: 20, homographic: 19, withParallax: 5, wideAngleDeg: 1, triP90Deg: 1 };
  it('warns about a focal far from any plausible lens, an off-centre principal point and homographic pairs', () => {
    const w = sfmWarnings({
      cameras: [cam([1547, 440, 300, 0.86])], priors: new Map([[1, { focalPx: 847, source: 'guess' as const }]]),
      intrinsics: [{ camera: 1, refined: { focal: true, principalPoint: true, distortion: true }, std: { focalPx: 120, principalPointPx: 20, distortionPx: 3 }, notes: [] }],
      parallax, registered: 20, points: 5000,
    });
    expect(w.some((l) => /focal 1547 px/.test(l))).toBe(true);
    expect(w.some((l) => /principal point .* off the centre/.test(l))).toBe(true);
    expect(w.some((l) => /constrain the focal only to ±120 px/.test(l))).toBe(true);
    expect(w.some((l) => /19 of 20 verified image pairs are explained by a homography/.test(l))).toBe(true);
    for (const l of w) expect(l).not.toMatch(/\n/);
  });

  it('stays silent on sane self-calibrated intrinsics and on known ones', () => {
    const ok = { verified: 20, homographic: 2, withParallax: 20, wideAngleDeg: 5, triP90Deg: 5 };
    expect(sfmWarnings({
      cameras: [cam([586, 354, 262, 0.02])], priors: new Map([[1, { focalPx: 847, source: 'guess' as const }]]),
      intrinsics: [{ camera: 1, refined: { focal: true, principalPoint: false, distortion: true }, std: { focalPx: 3, principalPointPx: 9, distortionPx: 0.5 }, notes: [] }],
      parallax: ok, registered: 20, points: 5000,
    })).toEqual([]);
    expect(sfmWarnings({ cameras: [cam([2000, 353, 264, 0])], priors: new Map(), intrinsics: [], parallax: ok, registered: 20, points: 5000 })).toEqual([]);
    // a long lens the views pin down (moldGoldCape: 2170 px on 1024 px photos, ±0.7 px) is not a drift
    const tele = { camera: 1, refined: { focal: true, principalPoint: false, distortion: true }, std: { focalPx: 0.74, principalPointPx: NaN, distortionPx: 0.05 }, notes: [] };
    const long = { ...cam([2170, 512, 512, 0.017]), width: 1024, height: 1024 };
    expect(sfmWarnings({ cameras: [long], priors: new Map([[1, { focalPx: 1229, source: 'guess' as const }]]), intrinsics: [tele], parallax: ok, registered: 119, points: 70000 })).toEqual([]);
    // the same focal, loosely constrained, is still flagged
    expect(sfmWarnings({ cameras: [long], priors: new Map([[1, { focalPx: 1229, source: 'guess' as const }]]), intrinsics: [{ ...tele, std: { ...tele.std, focalPx: 30 } }], parallax: ok, registered: 119, points: 70000 }).join(' ')).toMatch(/focal 2170 px .* unusual/);
    expect(sfmWarnings({ cameras: [cam([2000, 353, 264, 0])], priors: new Map(), intrinsics: [], parallax: ok, registered: 10, points: 0 })[0]).toMatch(/only 0 3D points for 10 registered images/);
  });
});
