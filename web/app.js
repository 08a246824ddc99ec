// The page: draw a digit with the mouse, a pen or a finger; each stroke's end reads it with
// the exported ONNX model, run by onnxruntime-web in this tab. No request leaves the page's
// own origin: the runtime and the models are files beside it.

import * as ort from "./vendor/ort.wasm.min.mjs";
import { NoDigitError, preprocess } from "./preprocess.js";

// The runtime's WebAssembly beside its module; one thread, which needs no cross-origin
// isolation from the host and reads a digit in a millisecond or two.
ort.env.wasm.wasmPaths = new URL("./vendor/", import.meta.url).href;
ort.env.wasm.numThreads = 1;

// MNIST's pen is 0.12 of the digit's longer side, ink included (digitrec's MNIST_STROKE).
const MNIST_STROKE = 0.12;
// The strokes are drawn again on an image this large, the digit in its middle 80%.
const INK_SIZE = 140;
const DIGIT_SIZE = 112;

const pad = document.getElementById("pad");
const context = pad.getContext("2d");
const modelChoice = document.getElementById("model");
const answer = document.getElementById("digit");
const top3 = document.getElementById("top");
const status = document.getElementById("status");
const seen = document.getElementById("seen");

// Each stroke a list of [x, y] in fractions of the pad's side.
let strokes = [];
let current = null;
const sessions = {};
// What tests and curious visitors can look at: the last image read and what came of it.
window.digitrec = { answered: 0, last: null };

function sizePad() {
  const side = pad.getBoundingClientRect().width;
  pad.width = pad.height = Math.round(side * (window.devicePixelRatio || 1));
  redraw();
}

function penWidth() {
  return pad.width * 0.045;
}

function redraw() {
  context.fillStyle = "#fff";
  context.fillRect(0, 0, pad.width, pad.height);
  drawStrokes(context, strokes, (x, y) => [x * pad.width, y * pad.height], penWidth(), "#111");
}

function drawStrokes(target, lines, place, width, colour) {
  Object.assign(target, { lineWidth: width, lineCap: "round", lineJoin: "round", strokeStyle: colour, fillStyle: colour });
  for (const line of lines) {
    const points = line.map(([x, y]) => place(x, y));
    if (points.length === 1) {
      target.beginPath();
      target.arc(points[0][0], points[0][1], width / 2, 0, 2 * Math.PI);
      target.fill();
      continue;
    }
    target.beginPath();
    target.moveTo(...points[0]);
    for (const point of points.slice(1)) target.lineTo(...point);
    target.stroke();
  }
}

function where(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  current = [where(event)];
  strokes.push(current);
  redraw();
});
pad.addEventListener("pointermove", (event) => {
  if (!current) return;
  event.preventDefault();
  for (const each of event.getCoalescedEvents?.() || [event]) current.push(where(each));
  redraw();
});
for (const ending of ["pointerup", "pointercancel"]) {
  pad.addEventListener(ending, () => {
    if (!current) return;
    current = null;
    read();
  });
}

document.getElementById("clear").addEventListener("click", () => {
  strokes = [];
  redraw();
  show(null, "Draw a digit in the box.");
  window.digitrec.last = null;
});
modelChoice.addEventListener("change", () => read());
window.addEventListener("resize", sizePad);

// The strokes drawn again on a transparent image at MNIST's pen width for the digit's size,
// so that a small digit and a large one, drawn with the same brush, read alike.
function inkImage() {
  const points = strokes.flat();
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const [left, top, right, bottom] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  const side = Math.max(right - left, bottom - top, 0.01);
  // The pen's width is MNIST's share of the inked side, which the pen itself widens.
  const pen = (side * MNIST_STROKE) / (1 - MNIST_STROKE);
  const scale = DIGIT_SIZE / (side + pen);
  const [middleX, middleY] = [(left + right) / 2, (top + bottom) / 2];
  const canvas = new OffscreenCanvas(INK_SIZE, INK_SIZE);
  const target = canvas.getContext("2d", { willReadFrequently: true });
  const place = (x, y) => [INK_SIZE / 2 + (x - middleX) * scale, INK_SIZE / 2 + (y - middleY) * scale];
  drawStrokes(target, strokes, place, pen * scale, "#000");
  return target.getImageData(0, 0, INK_SIZE, INK_SIZE);
}

async function session(name) {
  sessions[name] ??= ort.InferenceSession.create(`./models/${name}.onnx`, { executionProviders: ["wasm"] });
  return sessions[name];
}

async function read() {
  if (!strokes.length) return;
  const name = modelChoice.value;
  const drawn = strokes.length;
  try {
    const ink = inkImage();
    const digit = preprocess(ink);
    const model = await session(name);
    const started = performance.now();
    const output = await model.run({ image: new ort.Tensor("float32", digit.data, [1, 28, 28]) });
    const probabilities = Array.from(output.probabilities.data);
    const milliseconds = performance.now() - started;
    if (drawn !== strokes.length || name !== modelChoice.value) return; // Overtaken by a newer stroke.
    window.digitrec.last = { model: name, ink: { width: ink.width, height: ink.height, data: Array.from(ink.data) }, input: Array.from(digit.data), probabilities };
    show(probabilities, `Read by the ${name.toUpperCase()} in ${milliseconds.toFixed(1)} ms, in this tab.`);
    showSeen(digit.data);
  } catch (error) {
    if (error instanceof NoDigitError) show(null, error.message);
    else show(null, `The digit could not be read: ${error.message}`);
  }
  window.digitrec.answered += 1;
}

function show(probabilities, message) {
  status.textContent = message;
  top3.replaceChildren();
  if (!probabilities) {
    answer.textContent = "–";
    seen.getContext("2d").clearRect(0, 0, 28, 28);
    return;
  }
  const ranked = probabilities.map((p, digit) => [p, digit]).sort((a, b) => b[0] - a[0]);
  answer.textContent = String(ranked[0][1]);
  for (const [p, digit] of ranked.slice(0, 3)) {
    const item = document.createElement("li");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(100 * p).toFixed(1)}%`;
    item.append(`${digit}`, bar, `${(100 * p).toFixed(1)}%`);
    top3.append(item);
  }
}

function showSeen(data) {
  const picture = new ImageData(28, 28);
  data.forEach((value, i) => {
    picture.data.fill(Math.round(255 * value), 4 * i, 4 * i + 3);
    picture.data[4 * i + 3] = 255;
  });
  seen.getContext("2d").putImageData(picture, 0, 0);
}

sizePad();
show(null, "Loading the model…");
session(modelChoice.value)
  .then(() => show(null, "Draw a digit in the box."))
  .catch((error) => show(null, `The model could not be loaded: ${error.message}. Serve this folder over HTTP (see the README).`));
