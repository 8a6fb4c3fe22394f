/**
 * Selecting an object in a trained scene: by box (box.ts), by 2D masks lifted to the Gaussians
 * (lift-masks.ts, mask-files.ts), or automatically — ground plane (ground.ts) and the connected
 * groups standing on it (auto.ts); then cleaning the cut (clean.ts).
 */
export { groundPlane, gaussianCentres, heightOf, type GroundPlane } from './ground.js';
export { findObjectsAuto, type AutoObject } from './auto.js';
export { selectByBox, readBoxSelection, parseBoxSpec, resolveBoxArg } from './box.js';
export { liftMasks, type MaskView } from './lift-masks.js';
export { readObjectMasks } from './mask-files.js';
export { cleanCut } from './clean.js';
export { uprightBox } from './obb.js';
export { readFrameUp } from './frame.js';
