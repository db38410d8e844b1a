"""Networks as specs: dense layers stacked, a loss averaged over the outputs, regularisers.

``network([dense("h", "relu"), dense("k")], loss="softmax_cross_entropy", regularizers=[l2(0.01)])``
builds, for data X (N×n) and targets Y (N×k), layer by layer Z_l = A_{l-1} W_l + 1 b_lᵀ and
A_l = f_l(Z_l) (A_0 = X; no activation: A_l = Z_l), then the loss C and its penalties. The
intermediates are named after the layers (Z_1, A_1, Z_2, ...) through naming hints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import sympy

from . import catalog, ir
from .errors import ShapeError, SymderivError, UnknownNameError
from .functions import BUILTINS, ScalarFunction, apply
from .limits import MAX_FORMULA_DEPTH, check_depth
from .model import _as_number, _constants, _from_sympy, _Spec, activation_function, split_spec
from .notation import number_text

_NAME = re.compile(r"[A-Za-z_]\w*")
_INT = re.compile(r"[-+]?\d+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_FRACTION = re.compile(r"\d+\s*/\s*[1-9]\d*")  # how a strength prints: 1/100


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Dense:
    """A fully connected layer: ``size`` outputs, an optional activation, an optional bias."""

    size: sympy.Expr
    activation: ScalarFunction | None = None
    activation_name: str | None = None  # the catalog name, or "f" for a formula
    label: str | None = None  # the activation as written, for titles
    bias: bool | ir.Symbol = True

    def __str__(self) -> str:
        inside = str(self.size) + (f", {self.label}" if self.label else "")
        return f"dense({inside})"


def dense(
    size: str | int | sympy.Symbol | None = None,
    activation: str | sympy.Expr | None = None,
    *,
    bias: bool | ir.Symbol = True,
    **params: float | sympy.Number,
) -> Dense:
    """A dense layer of ``size`` units (a name or a positive int) with an optional activation
    (a catalog name such as ``"relu"``, a formula in z, or SymPy); ``bias``: True, False or a
    vector symbol to use as the bias."""
    if size is None:
        raise SymderivError("dense() needs a layer size: a name such as 'h' or a positive integer")
    if activation is None:
        if params:
            raise SymderivError(f"dense() got activation parameters {', '.join(params)} but no activation")
        return Dense(_size(size), None, None, None, _bias(bias))
    fn, name = activation_function(activation, **params)
    label = activation.strip() if isinstance(activation, str) else name
    return Dense(_size(size), fn, name, label, _bias(bias))


def _size(value) -> sympy.Expr:
    if isinstance(value, str) and _NAME.fullmatch(value.strip()):
        return ir.dim(value.strip())
    if isinstance(value, sympy.Symbol) and value.is_positive and value.is_integer:
        return value
    if isinstance(value, (int, sympy.Integer)) and not isinstance(value, bool):
        if int(value) >= 1:
            return sympy.Integer(int(value))
        raise SymderivError(f"a layer size must be a positive integer or a name, got {int(value)}")
    raise SymderivError(f"a layer size must be a positive integer or a name, got {value!r}")


def _bias(bias):
    if isinstance(bias, bool) or (isinstance(bias, ir.Symbol) and len(bias.shape) == 1):
        return bias
    shown = ir.shape_str(bias.shape) if isinstance(bias, ir.Node) else type(bias).__name__
    raise SymderivError(f"a layer's bias is True, False or a vector symbol, not a {shown}")


# --------------------------------------------------------------------------- regularisers


@dataclass(frozen=True)
class Regularizer:
    """A penalty on named parameters: ``l2`` adds (λ/2)‖P‖², ``l1`` adds λ Σ|P| per parameter."""

    kind: str
    strength: sympy.Expr
    on: tuple | None = None  # None: every weight matrix

    def term(self, param: ir.Symbol) -> ir.Node:
        if self.kind == "l2":
            return ir.mul(ir.Const(self.strength / 2), ir.total(ir.power(param, ir.Const(2))))
        return ir.mul(ir.Const(self.strength), ir.total(apply(BUILTINS["abs"], param)))

    def __str__(self) -> str:
        on = f", on=({', '.join(self.on)})" if self.on else ""
        return f"{self.kind}(lambda={number_text(self.strength)}{on})"


def l2(strength: float | sympy.Number, on: str | Iterable[str] | None = None) -> Regularizer:
    """(λ/2)‖P‖²_F for each parameter P named in ``on`` (default: every weight matrix)."""
    return _regularizer("l2", strength, on)


def l1(strength: float | sympy.Number, on: str | Iterable[str] | None = None) -> Regularizer:
    """λ Σ|P| for each parameter P named in ``on`` (default: every weight matrix)."""
    return _regularizer("l1", strength, on)


REGULARIZERS = {"l1": l1, "l2": l2}


def _regularizer(kind: str, strength, on) -> Regularizer:
    value = _as_number("lambda", strength)
    if not value.is_finite or value < 0:
        raise SymderivError(f"{kind}: lambda must be a finite number >= 0, got {strength!r}")
    if on is None:
        return Regularizer(kind, value, None)
    names = (on,) if isinstance(on, str) else tuple(on)
    if not names or not all(isinstance(name, str) and _NAME.fullmatch(name) for name in names):
        raise SymderivError(f"{kind}: on= names parameters such as 'W_1', got {on!r}")
    return Regularizer(kind, value, names)


# --------------------------------------------------------------------------- the network


class Network(_Spec):
    """Dense layers on data X (N×n), a loss against targets Y (N×k), and regularisers."""

    symbol = "C"
    expression: ir.Node

    def __init__(self, layers, loss="mse", regularizers=(), *, inputs="n", samples="N", **params):
        self.layers = tuple(_as_layer(layer) for layer in _as_list(layers, "layers"))
        if not self.layers:
            raise SymderivError("a network needs at least one layer, e.g. [symderiv.dense('k')]")
        self.regularizers = tuple(_as_regularizer(r) for r in _as_list(regularizers, "regularizers"))
        self.X = ir.Symbol("X", (ir.dim(samples), _size(inputs)))
        self.Y = ir.Symbol("Y", (self.X.shape[0], self.layers[-1].size))
        self.weights, self.biases, self.pre_activations, self.outputs = [], [], [], []
        for index, layer in enumerate(self.layers, 1):
            self._add_layer(index, layer)
        self.loss_name, self.data_loss, self.notes = self._loss(loss, params)
        self.penalty = self._penalty()
        self.expression = self.data_loss if self.penalty is None else ir.add(self.data_loss, self.penalty)
        self.name = self.loss_name

    @property
    def prediction(self) -> ir.Node:
        """The output for every row of X: class probabilities (softmax of the logits) for a
        softmax cross-entropy, else the last layer's output."""
        logits = self.outputs[-1]
        entry = catalog.ROW_LOSSES.get(self.loss_name) if isinstance(self.loss_name, str) else None
        return ir.softmax(logits) if entry is not None and getattr(entry, "one_hot", False) else logits

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every W_l and b_l, layer by layer (what derive() differentiates by by default)."""
        names = []
        for index, weight in enumerate(self.weights):
            names.append(weight.name)
            if self.biases[index] is not None:
                names.append(self.biases[index].name)
        return tuple(names)

    def _add_layer(self, index: int, layer: Dense) -> None:
        previous = self.outputs[-1] if self.outputs else self.X
        weight = ir.Symbol(f"W_{index}", (previous.shape[1], layer.size))
        bias = _layer_bias(index, layer)
        z = ir.matmul(previous, weight)
        if bias is not None:
            z = ir.add(z, bias)
        self.weights.append(weight)
        self.biases.append(bias)
        self.pre_activations.append(z)
        self.outputs.append(z if layer.activation is None else apply(layer.activation, z))

    # ----------------------------------------------------------------- loss and penalties

    def _loss(self, spec, params) -> tuple:
        """(the loss's name, the mean loss, notes) for a catalog name, a formula or SymPy."""
        output = self.outputs[-1]
        if isinstance(spec, sympy.Expr):
            fn = _from_sympy(spec, ("a", "y"), "loss")
            return "loss", ir.mean(apply(fn, output, self.Y)), (_AVERAGED.format(self._count()),)
        if not isinstance(spec, str):
            raise SymderivError(f"a loss is a name, a formula or a SymPy expression, not {type(spec).__name__}")
        call = split_spec(spec)
        if call and (call[0] in catalog.LOSSES or call[0] in catalog.ROW_LOSSES):
            entry = catalog.network_loss(call[0])
            values = entry.with_params({**call[1], **params})
            if entry.one_hot:
                return entry.name, self._cross_entropy(entry), (_one_hot_note(entry),)
            return entry.name, self._elementwise(entry, values), self._notes(entry)
        if call and not call[1] and "(" not in spec:
            raise UnknownNameError("loss", call[0], [*catalog.LOSSES, *catalog.ROW_LOSSES])
        node = _parse_elementwise(spec, {"a": output, "y": self.Y}, params)
        return "loss", ir.mean(node), (_AVERAGED.format(self._count()),)

    def _cross_entropy(self, entry) -> ir.Node:
        logits = self.outputs[-1]
        if logits.shape[1] == 1:
            raise SymderivError(
                f"{entry.name} needs one-hot targets over k >= 2 classes, but the output layer has size 1"
                " (a vector target): use a sigmoid output with the logistic loss"
            )
        per_row = ir.sub(ir.logsumexp(logits), ir.total(ir.mul(self.Y, logits), 1))
        return ir.mean(per_row)

    def _elementwise(self, entry, values: dict) -> ir.Node:
        last = self.layers[-1]
        if entry.logit_formula and last.activation_name == "sigmoid":
            scope = {"z": self.pre_activations[-1], "y": self.Y}
            return ir.mean(_parse_elementwise(entry.logit_formula, scope, values))
        return ir.mean(_parse_elementwise(entry.formula, {"a": self.outputs[-1], "y": self.Y}, values))

    def _notes(self, entry) -> tuple:
        notes = [_AVERAGED.format(self._count())]
        if entry.targets != "real":
            notes.append(f"{entry.name} expects targets in {entry.targets}.")
        if entry.logit_formula and self.layers[-1].activation_name == "sigmoid":
            notes.append(f"With a sigmoid output, {entry.name} is written in the logits Z as {entry.logit_formula} (stable).")
        return tuple(notes)

    def _count(self) -> str:
        return f"{self.Y.shape[0]}×{self.Y.shape[1]}"

    def _penalty(self):
        known = {p.name: p for p in [*self.weights, *(b for b in self.biases if b is not None)]}
        terms = []
        for regularizer in self.regularizers:
            for name in regularizer.on or [w.name for w in self.weights]:
                if name not in known:
                    raise UnknownNameError(f"parameter for {regularizer.kind}", name, list(known))
                terms.append(regularizer.term(known[name]))
        if not terms:
            return None
        total = terms[0]
        for term in terms[1:]:
            total = ir.add(total, term)
        return total

    # ----------------------------------------------------------------- what derive() asks

    def title(self) -> str:
        layers = " → ".join(str(layer) for layer in self.layers)
        penalties = "".join(f" + {r.kind}" for r in self.regularizers)
        return f"the {self.loss_name} loss{penalties} of a network {layers}"

    def naming_hints(self) -> dict:
        hints = {self.expression.key: "C"}
        if self.penalty is not None:
            hints[self.data_loss.key] = "L"
            hints.setdefault(self.penalty.key, "R")
        for index, (z, a) in enumerate(zip(self.pre_activations, self.outputs), 1):
            hints.setdefault(z.key, f"Z_{index}")
            hints.setdefault(a.key, f"A_{index}")
        return hints

    def __repr__(self) -> str:
        layers = ", ".join(str(layer) for layer in self.layers)
        extra = "".join(f", {r}" for r in self.regularizers)
        return f"Network([{layers}], loss={self.loss_name}{extra})"


_AVERAGED = "The loss is averaged over all {} output elements (as PyTorch and Keras do)."


def _one_hot_note(entry) -> str:
    return (
        f"{entry.name} uses that each row of Y sums to 1 (one-hot or probability targets): "
        "−Σ_j Y_ij log softmax(z_i)_j = logsumexp(z_i) − y_iᵀz_i, "
        "so the adjoint of the logits is (softmax(Z) − Y)/N."
    )


def _layer_bias(index: int, layer: Dense):
    if layer.bias is False:
        return None
    if layer.bias is True:
        return ir.Symbol(f"b_{index}", (layer.size,))
    if layer.bias.shape != (layer.size,):
        raise ShapeError(
            f"the bias '{layer.bias.name}' of layer {index} must be {ir.shape_str((layer.size,))}, "
            f"got {ir.shape_str(layer.bias.shape)}"
        )
    return layer.bias


def _parse_elementwise(formula: str, scope: dict, params: dict) -> ir.Node:
    from .parse import parse

    node = parse(formula, {**scope, **_constants(params)})
    check_depth(ir.depth(node), "the loss", MAX_FORMULA_DEPTH)
    if node.shape != scope["y"].shape:
        raise SymderivError(
            f"a network's loss must be element-wise in a and y ({ir.shape_str(scope['y'].shape)}),"
            f" this one is {ir.shape_str(node.shape)}"
        )
    return node


def _as_list(value, what: str) -> list:
    if isinstance(value, (Dense, Regularizer, str)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise SymderivError(f"{what} must be a list, not {type(value).__name__}") from None


def _as_layer(layer) -> Dense:
    if isinstance(layer, Dense):
        return layer
    if isinstance(layer, str):
        return parse_layer(layer)
    raise SymderivError(f"a layer is symderiv.dense(...) or text such as 'dense(h, relu)', not {type(layer).__name__}")


def _as_regularizer(regularizer) -> Regularizer:
    if isinstance(regularizer, Regularizer):
        return regularizer
    if isinstance(regularizer, str):
        return parse_regularizer(regularizer)
    raise SymderivError(
        f"a regularizer is symderiv.l2(...), symderiv.l1(...) or text such as 'l2(0.01)', not {type(regularizer).__name__}"
    )


# --------------------------------------------------------------------------- small text specs


_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*", re.DOTALL)


def parse_layer(text: str) -> Dense:
    """``"dense(h, relu)"``, ``"dense(64, leaky_relu(alpha=0.1))"``, ``"dense(k, activation=max(0, z))"``."""
    name, args = _call(text, "layer", "dense(h, relu)")
    if name != "dense":
        raise UnknownNameError("layer", name, ["dense"])
    if not args:
        raise SymderivError(f"dense() needs a layer size in '{text.strip()}': a name such as h or a positive integer")
    if len(args) > 2:
        raise SymderivError(f"dense() takes a size and an activation, got {len(args)} arguments in '{text.strip()}'")
    size = _keyword(args[0], "size")
    if not (_NAME.fullmatch(size) or _INT.fullmatch(size)):
        raise SymderivError(f"a layer size must be a positive integer or a name, got '{size}'")
    activation = _keyword(args[1], "activation") if len(args) == 2 else None
    return dense(int(size) if _INT.fullmatch(size) else size, activation or None)


def parse_regularizer(text: str) -> Regularizer:
    """``"l2(0.01)"``, ``"l2(lambda=1/100)"``, ``"l1(lambda=1e-3, on=(W_1, W_2))"``."""
    name, args = _call(text, "regularizer", "l2(lambda=0.01)")
    if name not in REGULARIZERS:
        raise UnknownNameError("regularizer", name, list(REGULARIZERS))
    strength, on = None, None
    for arg in args:
        key, value = _key_value(arg)
        if key in (None, "lambda") and strength is None and _NUMBER.fullmatch(value):
            strength = float(value)
        elif key in (None, "lambda") and strength is None and _FRACTION.fullmatch(value):
            strength = sympy.Rational(*(int(part) for part in value.split("/")))
        elif key == "on" and on is None:
            on = tuple(part.strip() for part in value.strip("()").split(",") if part.strip())
        else:
            raise SymderivError(f"{name}() takes lambda=NUMBER and on=NAMES, got '{arg.strip()}' in '{text.strip()}'")
    if strength is None:
        raise SymderivError(f"{name}() needs a strength: {name}(lambda=0.01)")
    return REGULARIZERS[name](strength, on)


def _call(text: str, what: str, example: str) -> tuple:
    match = _CALL.fullmatch(text) if isinstance(text, str) else None
    if not match:
        bare = text.strip() if isinstance(text, str) else ""
        if _NAME.fullmatch(bare):
            return bare, []
        raise SymderivError(f"a {what} is written like '{example}', got {text!r}")
    return match.group(1), _split_top_level(match.group(2), text)


def _split_top_level(inside: str, text: str) -> list:
    """Comma-separated arguments, commas inside parentheses kept (formulas, on=(W_1, W_2))."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in inside:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise SymderivError(f"unbalanced parentheses in '{text.strip()}'")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth:
        raise SymderivError(f"unbalanced parentheses in '{text.strip()}'")
    parts.append("".join(current))
    if len(parts) == 1 and not parts[0].strip():
        return []
    if any(not part.strip() for part in parts):
        raise SymderivError(f"an empty argument in '{text.strip()}'")
    return parts


def _key_value(arg: str) -> tuple:
    match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=(?!=)(.*)", arg, re.DOTALL)
    return (match.group(1), match.group(2).strip()) if match else (None, arg.strip())


def _keyword(arg: str, key: str) -> str:
    name, value = _key_value(arg)
    if name is not None and name != key:
        raise SymderivError(f"dense() has no argument '{name}' (its arguments: size, activation)")
    return value if name == key else arg.strip()


def network(
    layers: Dense | str | Iterable[Dense | str],
    loss: str | sympy.Expr = "mse",
    regularizers: Regularizer | str | Iterable[Regularizer | str] = (),
    *,
    inputs: str | int | sympy.Symbol = "n",
    samples: str = "N",
    **params: float | sympy.Number,
) -> Network:
    """A stack of dense layers with a loss (catalog name, formula in a and y, or SymPy) and
    regularisers; ``params`` go to the loss (``delta=0.5`` for huber)."""
    return Network(layers, loss, regularizers, inputs=inputs, samples=samples, **params)
