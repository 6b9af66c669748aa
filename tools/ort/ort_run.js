#!/usr/bin/env node
// Kiln onnxruntime (CPU, single-threaded) reference runner.
//
//   node ort_run.js MODEL.onnx --inputs a.npy [b.npy ...] --output-dir DIR
//                   [--free-dim NAME=VAL ...] [--time N] [--graph-optimization disabled|basic|all]
//
// --graph-optimization (default all): 'disabled' runs the graph exactly as written, which is the
// reference for accuracy checks (onnxruntime's own fusions move results by ~2e-4 on PP-OCRv4);
// 'all' is the fast configuration used for speed comparisons.
// Inputs are matched to the model's inputs in order; the .npy dtype and shape
// are used as-is (float32, float64, uint8, int8, int32, int64, bool; little-endian,
// C order). Every output is written as float32 DIR/<sanitized output name>.npy,
// plus DIR/outputs.json = {"outputs":[{"name","shape","file"}]}.
// With --time N: 3 warm-up runs, then N timed runs; prints one JSON line
// {"ort_ms_per_inference": median_ms} to stdout. Diagnostics go to stderr.
//
// onnxruntime-node is looked up in $KILN_ORT_DIR (default ~/.cache/kiln/ort,
// installed by tools/ort/setup.sh), then in the normal node resolution paths.
'use strict';

const fs = require('fs');
const path = require('path');
const os = require('os');
const { createRequire } = require('module');

function die(msg, code = 2) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(code);
}

function loadOrt() {
  const ortDir = process.env.KILN_ORT_DIR || path.join(os.homedir(), '.cache', 'kiln', 'ort');
  const candidates = [path.join(ortDir, 'package.json'), path.join(__dirname, 'package.json')];
  for (const c of candidates) {
    try {
      return createRequire(c)('onnxruntime-node');
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  die(`onnxruntime-node not found (looked in ${ortDir}); run tools/ort/setup.sh first`, 3);
}

// ---------------------------------------------------------------- npy I/O
const NPY_TYPES = {
  // descr (without byte-order char) -> [ort type, TypedArray, bytes]
  f4: ['float32', Float32Array, 4],
  f8: ['float64', Float64Array, 8],
  u1: ['uint8', Uint8Array, 1],
  i1: ['int8', Int8Array, 1],
  u2: ['uint16', Uint16Array, 2],
  i2: ['int16', Int16Array, 2],
  i4: ['int32', Int32Array, 4],
  u4: ['uint32', Uint32Array, 4],
  i8: ['int64', BigInt64Array, 8],
  u8: ['uint64', BigUint64Array, 8],
  b1: ['bool', Uint8Array, 1],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    die(`${file}: not a .npy file`);
  }
  const major = buf[6];
  let hlen, hstart;
  if (major === 1) { hlen = buf.readUInt16LE(8); hstart = 10; }
  else if (major === 2 || major === 3) { hlen = buf.readUInt32LE(8); hstart = 12; }
  else die(`${file}: unsupported npy version ${major}`);
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) die(`${file}: cannot parse npy header: ${header}`);
  if (fortran[1] === 'True') die(`${file}: fortran_order arrays are not supported (use np.ascontiguousarray)`);
  const d = descr[1];
  const order = d[0];
  const kind = d.slice(1);
  if (order === '>' && !kind.endsWith('1')) die(`${file}: big-endian dtype ${d} not supported`);
  const t = NPY_TYPES[kind];
  if (!t) die(`${file}: unsupported dtype ${d}`);
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const nbytes = count * t[2];
  if (buf.length - off < nbytes) die(`${file}: truncated data (${buf.length - off} < ${nbytes} bytes)`);
  // Copy into an aligned buffer.
  const ab = new ArrayBuffer(nbytes);
  new Uint8Array(ab).set(buf.subarray(off, off + nbytes));
  let data = new t[1](ab);
  if (t[0] === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return { type: t[0], data, shape };
}

function writeNpyF32(file, data, shape) {
  const shp = shape.length === 0 ? '()' : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre[0] = 0x93; pre.write('NUMPY', 1, 'latin1'); pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

function toFloat32(tensor) {
  const d = tensor.data;
  if (d instanceof Float32Array) return d;
  if (Array.isArray(d)) die(`output of type ${tensor.type} cannot be converted to float32`);
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}

// ---------------------------------------------------------------- CLI
function usage() {
  process.stderr.write(
    'usage: node ort_run.js MODEL.onnx --inputs a.npy [b.npy ...] --output-dir DIR\n' +
    '                       [--free-dim NAME=VAL ...] [--time N] [--graph-optimization LEVEL]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { model: null, inputs: [], outDir: null, freeDims: {}, time: 0, opt: 'all' };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') usage();
    else if (arg === '--inputs') {
      i++;
      while (i < argv.length && !argv[i].startsWith('--')) a.inputs.push(argv[i++]);
      continue;
    } else if (arg === '--output-dir') {
      a.outDir = argv[++i];
    } else if (arg === '--free-dim') {
      i++;
      while (i < argv.length && !argv[i].startsWith('--')) {
        const m = /^([^=]+)=(\d+)$/.exec(argv[i]);
        if (!m) die(`bad --free-dim ${argv[i]} (want NAME=VAL)`);
        a.freeDims[m[1]] = Number(m[2]);
        i++;
      }
      continue;
    } else if (arg === '--graph-optimization') {
      a.opt = argv[++i];
      if (!['disabled', 'basic', 'extended', 'all'].includes(a.opt)) die(`bad --graph-optimization ${a.opt}`);
    } else if (arg === '--time') {
      a.time = Number(argv[++i]);
      if (!Number.isInteger(a.time) || a.time < 1) die('--time needs a positive integer');
    } else if (arg.startsWith('--')) {
      die(`unknown option ${arg}`);
    } else if (!a.model) {
      a.model = arg;
    } else {
      die(`unexpected argument ${arg}`);
    }
    i++;
  }
  if (!a.model || !a.outDir || a.inputs.length === 0) usage();
  return a;
}

function sanitize(name) {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  ort.env.logLevel = 'error';
  const opts = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: args.opt,
    logSeverityLevel: 3, // errors only (hide "Removing initializer" warnings)
  };
  if (Object.keys(args.freeDims).length) {
    // onnxruntime-node 1.20 ignores this option; inputs with concrete shapes
    // are accepted for dynamic dims anyway, so the .npy shape decides.
    opts.freeDimensionOverrides = args.freeDims;
  }
  const session = await ort.InferenceSession.create(args.model, opts);
  const inNames = session.inputNames;
  if (args.inputs.length !== inNames.length) {
    die(`model has ${inNames.length} input(s) [${inNames.join(', ')}] but ${args.inputs.length} .npy file(s) were given`);
  }
  const feeds = {};
  inNames.forEach((name, k) => {
    const a = readNpy(args.inputs[k]);
    feeds[name] = new ort.Tensor(a.type, a.data, a.shape);
  });

  const results = await session.run(feeds);
  fs.mkdirSync(args.outDir, { recursive: true });
  const used = new Set();
  const outputs = [];
  for (const name of session.outputNames) {
    const t = results[name];
    let base = sanitize(name);
    let file = `${base}.npy`;
    for (let n = 1; used.has(file) || file === 'outputs.json'; n++) file = `${base}_${n}.npy`;
    used.add(file);
    const shape = Array.from(t.dims, Number);
    writeNpyF32(path.join(args.outDir, file), toFloat32(t), shape);
    outputs.push({ name, shape, file });
  }
  fs.writeFileSync(path.join(args.outDir, 'outputs.json'), JSON.stringify({ outputs }, null, 2) + '\n');

  if (args.time > 0) {
    for (let w = 0; w < 3; w++) await session.run(feeds);
    const ms = [];
    for (let r = 0; r < args.time; r++) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((x, y) => x - y);
    const n = ms.length;
    const median = n % 2 ? ms[(n - 1) / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    process.stdout.write(JSON.stringify({ ort_ms_per_inference: Number(median.toFixed(4)) }) + '\n');
  }
  if (typeof session.release === 'function') await session.release();
}

main().catch((e) => die(e && e.stack ? e.stack : String(e), 1));
