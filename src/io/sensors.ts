/**
 * Sensor widths (mm, the long side) of common cameras, for turning an EXIF FocalLength in mm into
 * pixels when the image has no FocalLengthIn35mmFormat. Keys are "make|model" after normalise():
 * lower case, the maker's first word only, the maker's name removed from the model.
 * Phones nearly always write the 35 mm equivalent, so this table is mostly cameras and drones.
 */
const TABLE: Record<string, number> = {
  // Canon full frame / APS-C / compacts
  'canon|eos 5d': 35.8,
  'canon|eos 5d mark ii': 36.0,
  'canon|eos 5d mark iii': 36.0,
  'canon|eos 5d mark iv': 36.0,
  'canon|eos 6d': 35.8,
  'canon|eos 6d mark ii': 35.9,
  'canon|eos r': 36.0,
  'canon|eos r5': 36.0,
  'canon|eos r6': 35.9,
  'canon|eos 7d': 22.3,
  'canon|eos 7d mark ii': 22.4,
  'canon|eos 80d': 22.5,
  'canon|eos 600d': 22.3,
  'canon|eos rebel t3i': 22.3,
  'canon|eos 700d': 22.3,
  'canon|eos rebel t5i': 22.3,
  'canon|eos 550d': 22.3,
  'canon|eos rebel t2i': 22.3,
  'canon|powershot s95': 7.44,
  'canon|powershot g12': 7.44,
  'canon|powershot g7 x': 13.2,
  // Nikon
  'nikon|d700': 36.0,
  'nikon|d750': 35.9,
  'nikon|d800': 35.9,
  'nikon|d800e': 35.9,
  'nikon|d810': 35.9,
  'nikon|d850': 35.9,
  'nikon|z 6': 35.9,
  'nikon|z 7': 35.9,
  'nikon|d90': 23.6,
  'nikon|d3200': 23.2,
  'nikon|d5100': 23.6,
  'nikon|d7000': 23.6,
  'nikon|d7100': 23.5,
  'nikon|d7200': 23.5,
  // Sony
  'sony|ilce-7': 35.8,
  'sony|ilce-7m2': 35.8,
  'sony|ilce-7m3': 35.6,
  'sony|ilce-7rm2': 35.9,
  'sony|ilce-7rm3': 35.9,
  'sony|ilce-6000': 23.5,
  'sony|ilce-6300': 23.5,
  'sony|nex-5n': 23.4,
  'sony|dsc-rx100': 13.2,
  'sony|dsc-rx100m3': 13.2,
  // Fujifilm, Olympus, Panasonic (micro four thirds is 17.3 mm wide)
  'fujifilm|x-t2': 23.5,
  'fujifilm|x-t3': 23.5,
  'fujifilm|x100s': 23.6,
  'olympus|e-m5': 17.3,
  'olympus|e-m10': 17.3,
  'panasonic|dmc-gh4': 17.3,
  'panasonic|dmc-gx7': 17.3,
  // Drones and action cameras
  'dji|fc6310': 13.2, // Phantom 4 Pro
  'dji|fc6310s': 13.2,
  'dji|fc330': 6.17, // Phantom 4
  'dji|fc300x': 6.17, // Phantom 3 Pro
  'dji|fc220': 6.17, // Mavic Pro
  'dji|fc2103': 6.17, // Mavic Air
  'dji|fc3170': 6.4, // Mavic Air 2
  'dji|l1d-20c': 13.2, // Mavic 2 Pro
  'gopro|hero4 black': 6.17,
  'gopro|hero5 black': 6.17,
  // Phones, for when they omit the 35 mm equivalent
  'apple|iphone 4s': 4.54,
  'apple|iphone4,1': 4.54,
  'apple|iphone 5': 4.54,
  'apple|iphone 6': 4.8,
  'apple|iphone 6s': 4.8,
};

/** "NIKON CORPORATION" → "nikon"; "Canon EOS 5D Mark III" → "eos 5d mark iii". */
export function normalise(make: string, model: string): string {
  const m = make.trim().toLowerCase().split(/\s+/)[0] ?? '';
  let mo = model.trim().toLowerCase().replace(/\s+/g, ' ');
  if (m && mo.startsWith(m + ' ')) mo = mo.slice(m.length + 1);
  return `${m}|${mo}`;
}

/** Sensor width in mm (long side), or undefined when the camera is not in the table. */
export function sensorWidthMm(make: string | undefined, model: string | undefined): number | undefined {
  if (!make || !model) return undefined;
  return TABLE[normalise(make, model)];
}
