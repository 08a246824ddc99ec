// The Python package's preprocessing (digitrec/preprocessing), for a drawing, in JavaScript:
// an RGBA image becomes the 28x28 digit a model reads, white on black in [0, 1], as MNIST
// drew its digits. The ink is found whatever its polarity, stretched so the background is 0
// and the strongest stroke 1, cleared of specks far smaller than the digit, cropped, fitted
// into 20x20 keeping its aspect ratio and placed so its centre of mass falls on MNIST's.
//
// What the Python does besides, for photos and scans (a sheet of paper found on a table,
// uneven light evened out, strokes thinned or thickened towards MNIST's pen), is left out:
// the page draws its strokes again at MNIST's pen width before reading them (see app.js).

// Constants shared with digitrec/preprocessing (ink.py and framing.py).
export const MIN_CONTRAST = 0.1;
export const INK_THRESHOLD = 0.3;
export const SPECK_FRACTION = 0.05;
export const CENTRE = 14;

export class NoDigitError extends Error {}

// {data: Float32Array(784), width: 28, height: 28} for an ImageData-like {data, width, height}.
export function preprocess(image) {
  const { width, height } = image;
  let ink = inkMap(image);
  const [background, top] = levels(ink);
  ink = ink.map((value) => clip((value - background) / (top - background)));
  const digit = withoutSpecks(ink, width, height);
  // Keep the soft edges around kept strokes, as MNIST's anti-aliasing has them.
  const radius = Math.max(1, roundHalfEven(Math.max(width, height) / 100));
  const near = dilate(digit, width, height, radius);
  let strongest = 0;
  for (let i = 0; i < ink.length; i++) {
    if (!near[i]) ink[i] = 0;
    strongest = Math.max(strongest, ink[i]);
  }
  if (strongest === 0) throw new NoDigitError("No digit found: draw one first.");
  for (let i = 0; i < ink.length; i++) ink[i] /= strongest;
  return fitFrame(crop(ink, width, height));
}

// Gray levels in [0, 1] with the ink light: transparent images laid on a background that
// contrasts with their strokes, dark ink on light paper (told by the border) turned over.
export function inkMap({ data, width, height }) {
  const gray = new Float32Array(width * height);
  let alphaSum = 0;
  let inkSum = 0;
  let opaque = true;
  for (let i = 0; i < gray.length; i++) {
    const [r, g, b, a] = [data[4 * i], data[4 * i + 1], data[4 * i + 2], data[4 * i + 3] / 255];
    // OpenCV's RGB to gray weights.
    gray[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    alphaSum += a;
    inkSum += gray[i] * a;
    opaque &&= a === 1;
  }
  if (!opaque) {
    if (alphaSum === 0) throw new NoDigitError("No digit found: draw one first.");
    const background = inkSum / alphaSum < 0.5 ? 1 : 0;
    for (let i = 0; i < gray.length; i++) {
      const a = data[4 * i + 3] / 255;
      gray[i] = gray[i] * a + background * (1 - a);
    }
  }
  const border = borderLevel(gray, width, height);
  const [low, high] = extent(gray);
  const darkOnLight = border - low > high - border;
  return darkOnLight ? gray.map((value) => 1 - value) : gray;
}

// The median of the outer frame, a twentieth of the shorter side wide, where paper shows.
function borderLevel(gray, width, height) {
  const band = Math.max(1, Math.floor(Math.min(width, height) / 20));
  const values = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y < band || y >= height - band || x < band || x >= width - band) values.push(gray[y * width + x]);
    }
  }
  return median(values);
}

// The background's level (the median, or the darker Otsu class's when ink fills half the
// image) and the ink's strongest; NoDigitError when they are too close.
function levels(ink) {
  const sample = everyNth(ink);
  const background = Math.min(median(sample), darkerLevel(sample));
  const top = extent(ink)[1];
  if (top - background < MIN_CONTRAST) throw new NoDigitError("No digit found: draw one first.");
  return [background, top];
}

function darkerLevel(sample) {
  const [low, high] = extent(sample);
  if (high <= low) return low;
  const bytes = sample.map((value) => Math.trunc((value - low) * (255 / (high - low))));
  const threshold = otsu(bytes);
  return median(sample.filter((_, i) => bytes[i] <= threshold));
}

// Otsu's threshold of byte values, as OpenCV's THRESH_OTSU picks it.
function otsu(bytes) {
  const histogram = new Float64Array(256);
  for (const value of bytes) histogram[value] += 1;
  const total = bytes.length;
  let mean = 0;
  for (let level = 0; level < 256; level++) mean += (level * histogram[level]) / total;
  let best = 0;
  let bestVariance = 0;
  let below = 0;
  let belowMean = 0;
  for (let level = 0; level < 256; level++) {
    const share = histogram[level] / total;
    below += share;
    belowMean += level * share;
    const above = 1 - below;
    if (below < 1e-12 || above < 1e-12) continue;
    const difference = belowMean / below - (mean - belowMean) / above;
    const variance = below * above * difference * difference;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = level;
    }
  }
  return best;
}

// The mask (Uint8Array) of the strokes: the 8-connected regions above INK_THRESHOLD that are
// not far smaller than the largest.
function withoutSpecks(ink, width, height) {
  const labels = new Int32Array(ink.length).fill(-1);
  const areas = [];
  const stack = [];
  for (let start = 0; start < ink.length; start++) {
    if (labels[start] !== -1 || ink[start] <= INK_THRESHOLD) continue;
    const label = areas.length;
    let area = 0;
    labels[start] = label;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop();
      area++;
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const j = ny * width + nx;
          if (labels[j] === -1 && ink[j] > INK_THRESHOLD) {
            labels[j] = label;
            stack.push(j);
          }
        }
      }
    }
    areas.push(area);
  }
  if (!areas.length) throw new NoDigitError("No digit found: draw one first.");
  const largest = Math.max(...areas);
  const kept = areas.map((area) => area >= SPECK_FRACTION * largest);
  return Uint8Array.from(labels, (label) => (label >= 0 && kept[label] ? 1 : 0));
}

// The mask grown by `radius` pixels in every direction (a square, as the Python's).
function dilate(mask, width, height, radius) {
  const across = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      for (let nx = Math.max(0, x - radius); nx <= Math.min(width - 1, x + radius); nx++) across[y * width + nx] = 1;
    }
  }
  const grown = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!across[y * width + x]) continue;
      for (let ny = Math.max(0, y - radius); ny <= Math.min(height - 1, y + radius); ny++) grown[ny * width + x] = 1;
    }
  }
  return grown;
}

// The bounding box of the nonzero pixels, cut out: {data, width, height}.
function crop(ink, width, height) {
  let [left, top, right, bottom] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > 0) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  const [w, h] = [right - left + 1, bottom - top + 1];
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) data.set(ink.subarray((top + y) * width + left, (top + y) * width + left + w), y * w);
  return { data, width: w, height: h };
}

// Fitted into 20x20 keeping the aspect ratio, and placed by whole pixels so that its centre
// of mass falls on MNIST's (14, 14) inside the 28x28 frame.
export function fitFrame({ data, width, height }) {
  const factor = 20 / Math.max(width, height);
  const w = Math.max(1, roundHalfEven(width * factor));
  const h = Math.max(1, roundHalfEven(height * factor));
  const digit = factor < 1 ? resizeArea(data, width, height, w, h) : resizeLinear(data, width, height, w, h);
  let mass = 0;
  let rows = 0;
  let columns = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const value = digit[y * w + x];
      mass += value;
      rows += y * value;
      columns += x * value;
    }
  }
  const top = Math.min(Math.max(roundHalfEven(CENTRE - rows / mass), 0), 28 - h);
  const left = Math.min(Math.max(roundHalfEven(CENTRE - columns / mass), 0), 28 - w);
  const frame = new Float32Array(28 * 28);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) frame[(top + y) * 28 + left + x] = clip(digit[y * w + x]);
  }
  return { data: frame, width: 28, height: 28 };
}

// Shrinking by the area each output pixel covers, as OpenCV's INTER_AREA does.
function resizeArea(data, width, height, w, h) {
  const across = areaWeights(width, w);
  const down = areaWeights(height, h);
  const out = new Float32Array(w * h);
  for (const [y, sy, wy] of down) {
    for (const [x, sx, wx] of across) out[y * w + x] += data[sy * width + sx] * wy * wx;
  }
  return out;
}

// For each output pixel, the input pixels it covers and their share: [out, in, weight].
function areaWeights(size, out) {
  const scale = size / out;
  const weights = [];
  for (let o = 0; o < out; o++) {
    const [start, end] = [o * scale, Math.min(size, (o + 1) * scale)];
    for (let i = Math.floor(start); i < end; i++) {
      const overlap = Math.min(end, i + 1) - Math.max(start, i);
      if (overlap > 1e-9) weights.push([o, i, overlap / scale]);
    }
  }
  return weights;
}

// Enlarging bilinearly with pixel centres aligned, as OpenCV's INTER_LINEAR does.
function resizeLinear(data, width, height, w, h) {
  const out = new Float32Array(w * h);
  const source = (o, size, outSize) => {
    const position = Math.min(Math.max((o + 0.5) * (size / outSize) - 0.5, 0), size - 1);
    const low = Math.floor(position);
    return [low, Math.min(low + 1, size - 1), position - low];
  };
  for (let y = 0; y < h; y++) {
    const [y0, y1, fy] = source(y, height, h);
    for (let x = 0; x < w; x++) {
      const [x0, x1, fx] = source(x, width, w);
      const row = (yy) => data[yy * width + x0] * (1 - fx) + data[yy * width + x1] * fx;
      out[y * w + x] = row(y0) * (1 - fy) + row(y1) * fy;
    }
  }
  return out;
}

// The smallest and the largest value.
function extent(values) {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  return [low, high];
}

function clip(value) {
  return Math.min(Math.max(value, 0), 1);
}

// Python's round(): halves go to the even neighbour.
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

function everyNth(values) {
  const step = Math.max(1, Math.floor(values.length / 4000));
  const sample = [];
  for (let i = 0; i < values.length; i += step) sample.push(values[i]);
  return sample;
}

function median(values) {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(sorted.length / 2)];
}
