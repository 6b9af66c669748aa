"""A small ONNX -> torch interpreter with Kiln-like 8-bit fake quantization, for experiments.

Runs an ONNX graph node by node in torch; its float Constant / initializer tensors become
torch Parameters (trainable unless they are exporter helpers such as hardswish's 3 and 6), so
the network can be fine-tuned and written back with `export_onnx`. Covers the operators of
PP-OCRv4 det (Conv, ConvTranspose, BatchNormalization, Mul, Add, Div, Clip, Relu, HardSigmoid,
Sigmoid, GlobalAveragePool, Resize nearest, Concat).

Fake quantization models Kiln's device arithmetic (docs/arithmetic.md §1) at the level of its
layers, not of ONNX nodes: an activation is quantized (per tensor, uint8 asymmetric) where Kiln
materializes it, i.e. at the end of a chain a layer absorbs (a convolution with its batch norm,
constant affine and activation; the exporter's hardswish pattern `x * clip(x + 3, 0, 6) / 6` is
recognized as one activation); weights of Conv / ConvTranspose are quantized per output channel,
int8 symmetric. Rounding uses the straight-through estimator; values outside a range get no
gradient."""
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

# Nodes a Kiln layer absorbs into the layer that produces their input when their other operands
# are constants: their input tensor is not materialized, so it is not quantized.
_ABSORBED = {"BatchNormalization", "Relu", "HardSigmoid", "Sigmoid", "Clip", "HardSwish"}
_CONST_BINARY = {"Mul", "Add", "Div", "Sub"}


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class OnnxModule(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        self.model = onnx.load(path)
        g = self.model.graph
        self.const_names = {}  # tensor name -> parameter key
        self.params = torch.nn.ParameterDict()
        self.fixed = {}
        tensors = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        for n in g.node:
            if n.op_type == "Constant":
                tensors[n.output[0]] = numpy_helper.to_array(_attrs(n)["value"])
        for name, arr in tensors.items():
            if arr.dtype == np.float32 and arr.size > 0 and not name.startswith("p2o.helper"):
                key = name.replace(".", "_")
                self.params[key] = torch.nn.Parameter(torch.from_numpy(arr.copy()))
                self.const_names[name] = key
            else:
                self.fixed[name] = torch.from_numpy(np.array(arr))
        self.nodes = [n for n in g.node if n.op_type != "Constant"]
        self._fuse_hardswish()
        self.input_name = g.input[0].name
        self.output_names = [o.name for o in g.output]
        self.quant_points = self._quant_points()
        self.act_ranges = {}  # tensor name -> (lo, hi); empty: float activations
        self.quantize_weights = False
        self.record = None  # when a dict: tensor name -> samples of its values per run (calibration)

    def _fuse_hardswish(self):
        """Replaces Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(6) by one HardSwish node."""
        producer = {o: n for n in self.nodes for o in n.output}
        drop, out = set(), []
        for n in self.nodes:
            if n.op_type == "Div" and n.input[0] in producer:
                mul = producer[n.input[0]]
                if mul.op_type == "Mul" and mul.input[1] in producer and producer[mul.input[1]].op_type == "Clip":
                    clip = producer[mul.input[1]]
                    add = producer.get(clip.input[0])
                    if add is not None and add.op_type == "Add" and add.input[0] == mul.input[0]:
                        drop |= {id(mul), id(clip), id(add)}
                        out.append(onnx.helper.make_node("HardSwish", [mul.input[0]], [n.output[0]], name=n.name))
                        continue
            out.append(n)
        self.nodes = [n for n in out if id(n) not in drop]

    def _is_const(self, name):
        return name in self.const_names or name in self.fixed

    def _absorbs(self, node):
        if node.op_type in _ABSORBED:
            return True
        return node.op_type in _CONST_BINARY and sum(not self._is_const(i) for i in node.input) == 1

    def _quant_points(self):
        """Tensors Kiln materializes: read by a node that does not absorb them, or a graph output."""
        consumers = {}
        for n in self.nodes:
            for i in n.input:
                consumers.setdefault(i, []).append(n)
        points = set(self.output_names)
        for n in self.nodes:
            for o in n.output:
                if any(not self._absorbs(c) for c in consumers.get(o, [])):
                    points.add(o)
        return points

    def const(self, name):
        return self.params[self.const_names[name]] if name in self.const_names else self.fixed[name]

    def weight(self, name, out_axis):
        w = self.const(name)
        if not self.quantize_weights:
            return w
        return fake_quant_weight(w, out_axis)

    def _act(self, name, x):
        if self.record is not None and name in self.quant_points:
            self.record.setdefault(name, []).append(_sample(x.detach()))
        if name in self.act_ranges:
            lo, hi = self.act_ranges[name]
            return fake_quant_act(x, lo, hi)
        return x

    def forward(self, x, keep=()):
        env = {self.input_name: x}
        kept = {}
        for n in self.nodes:
            ins = [env[i] if i in env else (self.const(i) if i else None) for i in n.input]
            y = self._run(n, ins)
            env[n.output[0]] = self._act(n.output[0], y)
            if n.output[0] in keep:
                kept[n.output[0]] = env[n.output[0]]
        outs = [env[o] for o in self.output_names]
        return (outs, kept) if keep else outs

    def _run(self, n, ins):
        a, op = _attrs(n), n.op_type
        if op == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            assert pads[:2] == pads[2:], "asymmetric padding"
            w = self.weight(n.input[1], 0)
            return F.conv2d(ins[0], w, ins[2] if len(ins) > 2 else None, a.get("strides", [1, 1]), pads[:2],
                            a.get("dilations", [1, 1]), a.get("group", 1))
        if op == "ConvTranspose":
            pads = a.get("pads", [0, 0, 0, 0])
            w = self.weight(n.input[1], 1)
            return F.conv_transpose2d(ins[0], w, ins[2] if len(ins) > 2 else None, a.get("strides", [1, 1]),
                                      pads[:2], 0, a.get("group", 1), a.get("dilations", [1, 1]))
        if op == "BatchNormalization":
            return F.batch_norm(ins[0], ins[3].detach(), ins[4].detach(), ins[1], ins[2], False, 0.0,
                                a.get("epsilon", 1e-5))
        if op == "Mul":
            return ins[0] * ins[1]
        if op == "Add":
            return ins[0] + ins[1]
        if op == "Sub":
            return ins[0] - ins[1]
        if op == "Div":
            return ins[0] / ins[1]
        if op == "Clip":
            return torch.clamp(ins[0], float(ins[1]), float(ins[2]))
        if op == "Relu":
            return F.relu(ins[0])
        if op == "HardSwish":
            return ins[0] * torch.clamp(ins[0] + 3, 0, 6) / 6
        if op == "HardSigmoid":
            return torch.clamp(a.get("alpha", 0.2) * ins[0] + a.get("beta", 0.5), 0, 1)
        if op == "Sigmoid":
            return torch.sigmoid(ins[0])
        if op == "GlobalAveragePool":
            return ins[0].mean(dim=(2, 3), keepdim=True)
        if op == "Resize":
            assert a.get("mode") == b"nearest"
            scales = [float(s) for s in ins[2]]
            assert scales[:2] == [1.0, 1.0] and all(s == int(s) for s in scales)
            return F.interpolate(ins[0], scale_factor=scales[2:], mode="nearest")
        if op == "Concat":
            return torch.cat(ins, dim=a["axis"])
        raise NotImplementedError(op)

    def export_onnx(self, path):
        """Writes the model with the current parameter values in place of its constants."""
        m = onnx.ModelProto()
        m.CopyFrom(self.model)
        for n in m.graph.node:
            if n.op_type == "Constant" and n.output[0] in self.const_names:
                arr = self.params[self.const_names[n.output[0]]].detach().numpy().astype(np.float32)
                n.attribute[0].t.CopyFrom(numpy_helper.from_array(arr, n.output[0]))
        for t in m.graph.initializer:
            if t.name in self.const_names:
                t.CopyFrom(numpy_helper.from_array(self.params[self.const_names[t.name]].detach().numpy(), t.name))
        onnx.save(m, path)


def _sample(x, count=16384):
    """A fixed-seed sample of X's values with its minimum and maximum, for range selection."""
    flat = x.flatten()
    if flat.numel() > count:
        idx = torch.randint(0, flat.numel(), (count,), generator=torch.Generator().manual_seed(flat.numel()))
        flat = torch.cat([flat[idx], flat.min().view(1), flat.max().view(1)])
    return flat


def _ste_round(x):
    return x + (torch.round(x) - x).detach()


def fake_quant_act(x, lo, hi):
    """uint8 asymmetric per tensor: zero point rounded onto the grid, so 0.0 is exact."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max(hi - lo, 1e-12) / 255.0
    zp = round(-lo / scale)
    q = torch.clamp(_ste_round(x / scale) + zp, 0, 255)
    return (q - zp) * scale


def fake_quant_weight(w, out_axis):
    """int8 symmetric per output channel, scale from the channel's largest magnitude."""
    dims = [d for d in range(w.dim()) if d != out_axis]
    scale = w.detach().abs().amax(dim=dims, keepdim=True).clamp_min(1e-12) / 127.0
    return torch.clamp(_ste_round(w / scale), -127, 127) * scale


def least_error_range(values, grid=16, count=1 << 18):
    """The (lo, hi) within [min, max] of the samples whose 8-bit quantization has the least squared error
    (searched on COUNT of them)."""
    v = values.flatten().float()
    vmin, vmax = float(v.min()), float(v.max())
    if v.numel() > count:
        v = v[torch.randperm(v.numel(), generator=torch.Generator().manual_seed(0))[:count]]
    best, best_err = (vmin, vmax), None
    fracs = [1.0 - 0.96 * (k / grid) ** 2 for k in range(grid)]  # dense near the full range
    for fl in (fracs if vmin < 0 else [1.0]):
        for fh in (fracs if vmax > 0 else [1.0]):
            lo, hi = vmin * fl, vmax * fh
            err = float(((fake_quant_act(v, lo, hi) - v) ** 2).mean())
            if best_err is None or err < best_err:
                best, best_err = (lo, hi), err
    return best
