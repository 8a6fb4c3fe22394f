/**
 * Selecting an object in a trained scene: by box (box.ts), by 2D masks lifted to the Gaussians
 * (lift-masks.ts, mask-files.ts), or automatically — ground plane (ground.ts) and the connected
 * groups standing on it (auto.ts); then cleaning the cut (clean.ts).
 */
export { groundPlane, gaussianCentres, heightOf, defaultGroundOptions, type GroundPlane, type GroundOptions } from './ground.js';
export { findObjectsAuto, defaultAutoOptions, type AutoObject, type AutoOptions } from './auto.js';
export { selectByBox, readBoxSelection, parseBoxSpec, resolveBoxArg, boxSelectionSchema, type BoxSelection, type BoxSelectionFile, type BoxSelectOptions } from './box.js';
export { liftMasks, defaultLiftOptions, type LiftOptions, type LiftResult, type MaskView } from './lift-masks.js';
export { readObjectMasks, type ImageSize, type ReadMaskOptions } from './mask-files.js';
export { maskWeightsReference, type MaskWeights } from './mask-weights-reference.js';
export { cleanCut, defaultCleanOptions, type CleanOptions, type CleanResult } from './clean.js';
export { uprightBox, minAreaRect, insideBox, boxMatrix, type OrientedBox, type UprightBox } from './obb.js';
export { readFrameUp, upBasis, yawRotation } from './frame.js';
