/**
 * `priors.json`: what ingest learned about each image, read by sfm. Written atomically by ingest.
 */
export type FocalSource = 'exif-35mm' | 'exif-sensor' | 'guess' | 'user';

export interface ImagePrior {
  /** file name inside workspace/images/ */
  name: string;
  /** size after EXIF orientation and --max-size */
  width: number;
  height: number;
  /** images with the same key share intrinsics: make|model|WxH (or "video|WxH") */
  cameraKey: string;
  /** focal length prior, pixels, at this image's size */
  focalPx: number;
  focalSource: FocalSource;
  make?: string;
  model?: string;
  /** GPS in degrees / metres, when present */
  gps?: { lat: number; lon: number; alt?: number };
  /** GPS as local East-North-Up metres about priors.enuOrigin */
  enu?: [number, number, number];
  /** capture time, ISO 8601, when known (EXIF DateTimeOriginal or video timestamp) */
  time?: string;
  /** source file this image came from (photo path or video + frame time) */
  source: string;
  /** mask file name inside workspace/masks/, when given */
  mask?: string;
  /** video frames: seconds from the start of the video */
  videoTime?: number;
}

export interface DroppedInput {
  source: string;
  reason: string;
  /** video frames: the frame's would-be file name and its time in the video (seconds) */
  name?: string;
  videoTime?: number;
}

export interface Priors {
  version: 1;
  input: { kind: 'photos' | 'video'; path: string };
  enuOrigin?: { lat: number; lon: number; alt: number };
  images: ImagePrior[];
  dropped: DroppedInput[];
}
