/**
 * The incremental mapper's result: the COLMAP-style sparse model of the registered images (ids from
 * 1), the statistics of the summary, and a reason for every image left out.
 */
import type { SparseModel } from '../core/sparse-model.js';
import { matToQuat } from '../geometry/rotation.js';
import type { MapState } from './map-state.js';
import type { MapperResult } from './mapper-options.js';

export function mapperResult(s: MapState, init: [number, number] | null, defaultReason: string): MapperResult {
  const { feats, cameras, imageCamera } = s.input;
  const model: SparseModel = { cameras: new Map(), images: new Map(), points3D: new Map() };
  const usedCams = new Set<number>();
  const registered: number[] = [];
  for (let img = 0; img < s.n; img++) if (s.isRegistered(img)) { registered.push(img); usedCams.add(imageCamera[img]!); }
  for (const c of usedCams) {
    const cam = cameras[c]!;
    model.cameras.set(c + 1, { ...cam, id: c + 1, params: cam.params.slice() });
  }
  const pidMap = new Map<number, number>();
  let nextId = 1;
  for (const id of s.points.keys()) pidMap.set(id, nextId++);
  for (const img of registered) {
    const f = feats[img]!;
    const xys = new Float64Array(f.n * 2);
    const ids: number[] = new Array(f.n);
    for (let k = 0; k < f.n; k++) {
      xys[2 * k] = f.kp[4 * k]!;
      xys[2 * k + 1] = f.kp[4 * k + 1]!;
      const pid = s.pointOf[img]![k]!;
      ids[k] = pid >= 0 ? pidMap.get(pid)! : -1;
    }
    const q = matToQuat(s.R[img]!);
    const t = s.t[img]!;
    model.images.set(img + 1, { id: img + 1, cameraId: imageCamera[img]! + 1, name: f.name, qvec: q, tvec: [t[0]!, t[1]!, t[2]!], xys, point3DIds: ids });
  }
  let errSum = 0, obsSum = 0;
  for (const [id, p] of s.points) {
    let e = 0;
    for (const [img, f] of p.obs) e += s.reprojError(img, f, p.X);
    errSum += e;
    obsSum += p.obs.length;
    const [img0, f0] = p.obs[0]!;
    const rgb = feats[img0]!.rgb;
    model.points3D.set(pidMap.get(id)!, {
      id: pidMap.get(id)!, xyz: [p.X[0], p.X[1], p.X[2]], rgb: [rgb[f0 * 3]!, rgb[f0 * 3 + 1]!, rgb[f0 * 3 + 2]!],
      error: e / p.obs.length, track: p.obs.map(([im, f]) => ({ imageId: im + 1, point2DIdx: f })),
    });
  }
  const failed: Array<{ name: string; reason: string }> = [];
  for (let img = 0; img < s.n; img++) {
    if (s.isRegistered(img)) continue;
    const mainComp = registered.length ? s.component[registered[0]!]! : -1;
    const comp = s.component[img]!;
    const reason = s.adj[img]!.size === 0
      ? 'no verified matches with any other image'
      : registered.length === 0
        ? defaultReason // no model: "a separate group" would be wrong
        : comp !== mainComp
        ? `in a separate group of ${s.componentSizes[comp]} images with no verified matches to the main model (a disconnected model; only the largest is kept)`
        : s.failReason.get(img) ?? defaultReason;
    failed.push({ name: feats[img]!.name, reason });
  }
  return {
    model, registered, failed, intrinsics: s.intrinsicsReport,
    stats: {
      registered: registered.length, total: s.n, points: s.points.size,
      meanTrackLength: s.points.size ? obsSum / s.points.size : 0,
      meanReprojError: obsSum ? errSum / obsSum : 0,
      initialPair: init ? [feats[init[0]]!.name, feats[init[1]]!.name] : null,
      // sizes of the connected groups of images (more than one: the capture falls apart)
      groups: [...s.componentSizes].sort((a, b) => b - a),
      minTriAngleDeg: s.minTri, parallax: s.parallax,
    },
  };
}
