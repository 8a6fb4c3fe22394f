/**
 * EXIF facts ingest needs (camera, focal length, GPS, capture time), read with exifr from the
 * file's bytes. Missing or unreadable EXIF is not an error: it only weakens the priors.
 */
import exifr from 'exifr';

export interface ExifInfo {
  make?: string;
  model?: string;
  /** lens focal length, mm */
  focalMm?: number;
  /** 35 mm-equivalent focal length, mm */
  focal35?: number;
  gps?: { lat: number; lon: number; alt?: number };
  /** ISO 8601; local time without a zone unless EXIF gives the offset */
  time?: string;
  /** EXIF orientation 1..8 (informative: sharp applies it) */
  orientation?: number;
}

const OPTIONS = {
  tiff: true,
  exif: true,
  gps: true,
  ifd1: false,
  interop: false,
  icc: false,
  jfif: false,
  ihdr: false,
  xmp: false,
  iptc: false,
  // Raw values: exifr would otherwise turn dates into Date objects in this machine's time zone.
  reviveValues: false,
  translateValues: false,
  translateKeys: true,
} as const;

/** Parse EXIF from a file's bytes (exifr reads JPEG, TIFF, PNG, WebP, HEIC). */
export async function readExif(bytes: Uint8Array): Promise<ExifInfo> {
  let raw: Record<string, unknown> | undefined;
  try {
    // exifr's own file reading stops at the first chunk; some JPEGs put EXIF after a large ICC
    // profile, so hand it the whole buffer.
    raw = (await exifr.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), OPTIONS)) as Record<string, unknown> | undefined;
  } catch {
    return {};
  }
  return raw ? fromRaw(raw) : {};
}

export function fromRaw(raw: Record<string, unknown>): ExifInfo {
  const out: ExifInfo = {};
  const mapillary = parseMapillaryDescription(raw.ImageDescription);
  const make = str(raw.Make) ?? mapillary.make;
  const model = str(raw.Model) ?? mapillary.model;
  if (make) out.make = make;
  if (model) out.model = model;
  const f = positive(raw.FocalLength);
  if (f !== undefined) out.focalMm = f;
  const f35 = positive(raw.FocalLengthIn35mmFormat);
  if (f35 !== undefined) out.focal35 = f35;

  const lat = num(raw.latitude);
  const lon = num(raw.longitude);
  // (0, 0) is what some cameras write when they have no fix.
  if (lat !== undefined && lon !== undefined && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0)) {
    const gps: { lat: number; lon: number; alt?: number } = { lat, lon };
    const alt = num(raw.GPSAltitude);
    if (alt !== undefined) gps.alt = num(raw.GPSAltitudeRef) === 1 ? -alt : alt;
    out.gps = gps;
  }

  const time = exifTime(str(raw.DateTimeOriginal) ?? str(raw.CreateDate) ?? str(raw.DateTime), str(raw.OffsetTimeOriginal) ?? str(raw.OffsetTime), str(raw.SubSecTimeOriginal) ?? (typeof raw.SubSecTimeOriginal === 'number' ? String(raw.SubSecTimeOriginal) : undefined));
  if (time) out.time = time;
  else if (mapillary.time) out.time = mapillary.time;

  const o = num(raw.Orientation);
  if (o !== undefined && o >= 1 && o <= 8) out.orientation = o;
  return out;
}

/** "2014:06:07 10:24:05" (+ "+02:00") → "2014-06-07T10:24:05+02:00". */
export function exifTime(s: string | undefined, offset?: string, subsec?: string): string | undefined {
  if (!s) return undefined;
  const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(s.trim());
  if (!m || m[1] === '0000') return undefined;
  const frac = subsec && /^\d+$/.test(subsec) ? `.${subsec.padEnd(3, '0').slice(0, 3)}` : '';
  const off = offset && /^[+-]\d{2}:\d{2}$/.test(offset.trim()) ? offset.trim() : '';
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}${off}`;
}

/**
 * Mapillary's capture app stores device make/model and capture time as JSON in
 * ImageDescription instead of the usual tags (the OpenSfM sample photos are such).
 */
function parseMapillaryDescription(v: unknown): { make?: string; model?: string; time?: string } {
  const s = str(v);
  if (!s || !s.startsWith('{') || !s.includes('MAP')) return {};
  try {
    const j = JSON.parse(s) as Record<string, unknown>;
    const out: { make?: string; model?: string; time?: string } = {};
    const make = str(j.MAPDeviceMake);
    const model = str(j.MAPDeviceModel);
    if (make) out.make = make;
    if (model) out.model = model;
    const t = /^(\d{4})_(\d{2})_(\d{2})_(\d{2})_(\d{2})_(\d{2})(?:_(\d{1,3}))?$/.exec(str(j.MAPCaptureTime) ?? '');
    if (t) out.time = `${t[1]}-${t[2]}-${t[3]}T${t[4]}:${t[5]}:${t[6]}${t[7] ? '.' + t[7].padEnd(3, '0') : ''}`;
    return out;
  } catch {
    return {};
  }
}

function str(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\0+$/g, '').trim();
  return s ? s : undefined;
}
function num(v: unknown): number | undefined {
  if (ArrayBuffer.isView(v) || Array.isArray(v)) v = (v as ArrayLike<unknown>)[0]; // e.g. GPSAltitudeRef as bytes
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
function positive(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n > 0 ? n : undefined;
}
