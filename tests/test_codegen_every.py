"""Issue 11: every derivation generates a module that keeps the contract.

Parametrised over codegen_oracles.CASES (every catalog neuron, every matrix derivation of
test_matrix_gradients, networks of 1 to 3 layers with l1 and l2, the issue's expressions): loss,
grad and hvp against the engine and central differences, hessian against hvp, the argument
convention, float32, keywords, shape errors, predict, block_size; then, over all the modules at
once, ruff, imports without SymPy and byte-identical output under any hash seed.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import codegen_oracles as oracle
import numpy as np
import pytest
from codegen_oracles import CASES
from test_codegen_support import import_source

from symderiv import codegen
from symderiv.testing import check_gradient, relative_error

ROOT = Path(__file__).resolve().parent.parent
IDS = list(CASES)
PUBLIC = ("loss", "grad", "value_and_grad", "hvp", "hessian")
EPS = 1e-6  # step of the central differences of grad along a direction


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    """``module(case_id)``: the generated module of a case, generated and imported once."""
    folder = tmp_path_factory.mktemp("every")
    loaded: dict = {}

    def get(case_id: str):
        if case_id not in loaded:
            loaded[case_id] = import_source(oracle.source(case_id), folder, _file_name(case_id))
        return loaded[case_id]

    return get


def _file_name(case_id: str) -> str:
    return re.sub(r"\W", "_", case_id)


# --------------------------------------------------------------------------- calling a module


def args(case_id: str, env: dict, dtype=np.float64) -> list:
    """The positional arguments in the convention's order, as ``dtype``."""
    return [_as(env[name], dtype) for name in oracle.arguments(case_id)]


def _as(value, dtype):
    array = np.asarray(value, dtype=dtype)
    return array[()] if array.ndim == 0 else array


def structured(case_id: str, values: dict, dtype=np.float64):
    """By-parameter values as the contract passes them: one array when k == 1, else a tuple."""
    items = tuple(_as(values[name], dtype) for name in oracle.parameters(case_id))
    return items[0] if len(items) == 1 else items


def by_name(case_id: str, result, function: str) -> dict:
    """A grad-like result as {parameter: array}, after checking its structure and shapes."""
    names = oracle.parameters(case_id)
    if len(names) == 1:
        assert not isinstance(result, (tuple, list)), (
            f"{function} returned a {type(result).__name__}, not one array"
        )
        result = (result,)
    assert isinstance(result, tuple) and len(result) == len(names), f"{function} returned {result!r}"
    return dict(zip(names, result))


def check_shapes(values: dict, env: dict, function: str) -> None:
    for name, value in values.items():
        assert np.shape(value) == np.shape(env[name]), f"{function}: {name} has shape {np.shape(value)}"


def flat(values: dict) -> np.ndarray:
    return np.concatenate([np.ravel(v) for v in values.values()])


def moved(env: dict, v: dict, step: float) -> dict:
    return {**env, **{name: env[name] + step * v[name] for name in v}}


def _positional(function) -> list:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in inspect.signature(function).parameters.values() if p.kind in kinds]


# --------------------------------------------------------------------------- the convention


@pytest.mark.parametrize("case_id", IDS)
def test_functions_follow_the_argument_convention(module, case_id):
    m, expected = module(case_id), oracle.arguments(case_id)
    assert m._WRT == tuple(oracle.parameters(case_id))
    for name in PUBLIC:
        assert name in m.__all__, f"{name} is not exported"
        wanted = expected + ["direction"] if name == "hvp" else expected
        assert _positional(getattr(m, name)) == wanted, name
    # `symderiv check` calls the functions with the values of _SHAPES, in its order
    assert list(m._SHAPES) == expected
    env = oracle.point(case_id)
    assert {name: len(shape) for name, shape in m._SHAPES.items()} == {k: np.ndim(v) for k, v in env.items()}
    for name in (*PUBLIC, "predict"):
        block = inspect.signature(getattr(m, name, lambda: None)).parameters.get("block_size")
        if block is not None:
            assert block.kind == inspect.Parameter.KEYWORD_ONLY and block.default is None, name


def test_neurons_and_networks_take_the_documented_arguments(module):
    assert _positional(module("neuron-relu-mse").loss) == ["w", "b", "X", "y"]
    assert _positional(module("expr-regularised-neuron").loss) == ["w", "b", "X", "y"]
    assert _positional(module("net2-relu-softmax-l2").loss) == ["W_1", "b_1", "W_2", "b_2", "X", "Y"]
    assert _positional(module("expr-relu-hidden-mse").grad) == ["v", "W", "X", "y"]


# --------------------------------------------------------------------------- loss and grad


@pytest.mark.parametrize("case_id", IDS)
def test_loss_and_grad_match_the_engine(module, case_id):
    m, env = module(case_id), oracle.point(case_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = m.loss(*args(case_id, env))
        gradients = by_name(case_id, m.grad(*args(case_id, env)), "grad")
        both = m.value_and_grad(*args(case_id, env))
    assert isinstance(value, np.float64), f"loss returned a {type(value).__name__}"
    assert relative_error(value, oracle.engine_loss(case_id, env)) < 1e-10
    assert relative_error(m.value(*args(case_id, env)), value) == 0, "value is loss's alias"
    check_shapes(gradients, env, "grad")
    engine = oracle.engine_grad(case_id, env)
    for name, gradient in gradients.items():
        assert relative_error(gradient, engine[name]) < 1e-10, name
    assert isinstance(both, tuple) and len(both) == 2
    assert relative_error(both[0], value) < 1e-12
    assert relative_error(flat(by_name(case_id, both[1], "value_and_grad")), flat(gradients)) < 1e-12


@pytest.mark.parametrize("case_id", IDS)
def test_grad_matches_central_differences_of_loss(module, case_id):
    m, env = module(case_id), oracle.point(case_id, seed=2)
    params = oracle.parameters(case_id)

    def loss(point):
        return m.loss(*args(case_id, {**env, **point}))

    def grad(point):
        return by_name(case_id, m.grad(*args(case_id, {**env, **point})), "grad")

    check_gradient(loss, grad, {name: env[name] for name in params}, rtol=1e-6)


# --------------------------------------------------------------------------- hvp and hessian


@pytest.mark.parametrize("case_id", IDS)
def test_hvp_matches_differences_of_grad_and_the_engine(module, case_id):
    m, env = module(case_id), oracle.point(case_id, seed=3)
    v = oracle.direction(case_id, env, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hvp = by_name(case_id, m.hvp(*args(case_id, env), structured(case_id, v)), "hvp")
    check_shapes(hvp, env, "hvp")
    up = by_name(case_id, m.grad(*args(case_id, moved(env, v, EPS))), "grad")
    down = by_name(case_id, m.grad(*args(case_id, moved(env, v, -EPS))), "grad")
    differences = {name: (up[name] - down[name]) / (2 * EPS) for name in up}
    assert relative_error(flat(hvp), flat(differences)) < 1e-5
    engine = oracle.engine_hvp(case_id, env, v)
    for name, value in hvp.items():
        assert relative_error(value, engine[name]) < 1e-9, name


@pytest.mark.parametrize("case_id", IDS)
def test_hessian_times_a_direction_is_hvp(module, case_id, monkeypatch):
    m, env = module(case_id), oracle.point(case_id, seed=5)
    v = oracle.direction(case_id, env, seed=6)
    size = flat({name: env[name] for name in oracle.parameters(case_id)}).size
    limit = getattr(m, "MAX_HESSIAN_PARAMETERS", codegen.MAX_HESSIAN_PARAMETERS)
    if size <= limit:
        hessian = np.asarray(m.hessian(*args(case_id, env)))
        assert hessian.shape == (size, size)
        assert relative_error(hessian, hessian.T) < 1e-10, "the Hessian is not symmetric"
        hvp = by_name(case_id, m.hvp(*args(case_id, env), structured(case_id, v)), "hvp")
        assert relative_error(hessian @ flat(v), flat(hvp)) < 1e-10
    if hasattr(m, "MAX_HESSIAN_PARAMETERS"):
        monkeypatch.setattr(m, "MAX_HESSIAN_PARAMETERS", size - 1)
        with pytest.raises(ValueError, match="MAX_HESSIAN_PARAMETERS|parameters"):
            m.hessian(*args(case_id, env))


# --------------------------------------------------------------------------- dtypes, keywords, shapes


@pytest.mark.parametrize("case_id", IDS)
def test_float32_in_float32_out(module, case_id):
    m, env = module(case_id), oracle.point(case_id)
    v = oracle.direction(case_id, env)
    single = args(case_id, env, np.float32)
    value = m.loss(*single)
    gradients = by_name(case_id, m.grad(*single), "grad")
    hvp = by_name(case_id, m.hvp(*single, structured(case_id, v, np.float32)), "hvp")
    assert np.asarray(value).dtype == np.float32 and np.shape(value) == ()
    for name in gradients:
        assert np.asarray(gradients[name]).dtype == np.float32, f"grad {name}"
        assert np.asarray(hvp[name]).dtype == np.float32, f"hvp {name}"
    check_shapes(gradients, env, "grad")
    check_shapes(hvp, env, "hvp")
    assert relative_error(value, m.loss(*args(case_id, env))) < 1e-3
    assert relative_error(flat(gradients), flat(by_name(case_id, m.grad(*args(case_id, env)), "grad"))) < 1e-3


@pytest.mark.parametrize("case_id", IDS)
def test_keyword_calls_give_the_positional_results(module, case_id):
    m, env = module(case_id), oracle.point(case_id)
    v = structured(case_id, oracle.direction(case_id, env))
    positional = args(case_id, env)
    keywords = dict(zip(oracle.arguments(case_id), positional))
    assert relative_error(m.loss(**keywords), m.loss(*positional)) == 0
    assert (
        relative_error(
            flat(by_name(case_id, m.grad(**keywords), "grad")),
            flat(by_name(case_id, m.grad(*positional), "grad")),
        )
        == 0
    )
    by_keyword = by_name(case_id, m.hvp(**keywords, direction=v), "hvp")
    assert relative_error(flat(by_keyword), flat(by_name(case_id, m.hvp(*positional, v), "hvp"))) == 0


@pytest.mark.parametrize("case_id", IDS)
def test_a_wrong_shape_raises_value_error_naming_the_argument(module, case_id):
    m, env = module(case_id), oracle.point(case_id)
    first = oracle.parameters(case_id)[0]
    bad = args(case_id, {**env, first: np.zeros(np.shape(env[first]) + (2,))})
    named = re.compile(rf"(?<!\w){re.escape(first)}(?!\w)")
    v = oracle.direction(case_id, env)
    for function in (m.loss, m.grad, m.value_and_grad):
        with pytest.raises(ValueError) as error:
            function(*bad)
        assert named.search(str(error.value)), f"{function.__name__}: {error.value}"
    with pytest.raises(ValueError) as error:
        m.hvp(*bad, structured(case_id, v))
    assert named.search(str(error.value)), f"hvp: {error.value}"
    wrong = {**v, first: np.zeros(np.shape(env[first]) + (2,))}
    with pytest.raises(ValueError, match="direction"):
        m.hvp(*args(case_id, env), structured(case_id, wrong))
    if len(v) > 1:
        with pytest.raises(ValueError, match="direction"):
            m.hvp(*args(case_id, env), structured(case_id, v)[:-1])


# --------------------------------------------------------------------------- predict, block_size


MODELS = [case_id for case_id, case in CASES.items() if case.prediction is not None]


@pytest.mark.parametrize("case_id", MODELS)
def test_predict_is_the_models_output(module, case_id):
    m, env = module(case_id), oracle.point(case_id)
    assert "predict" in m.__all__
    model_args = oracle.parameters(case_id) + ["X"]
    assert _positional(m.predict) == model_args
    predicted = m.predict(*[_as(env[name], np.float64) for name in model_args])
    expected = CASES[case_id].prediction(env)
    assert np.shape(predicted) == np.shape(expected)
    assert relative_error(predicted, expected) < 1e-10
    if case_id.startswith("net") and "softmax" in case_id:
        assert np.allclose(np.sum(predicted, axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case_id", IDS)
def test_block_size_gives_the_same_results(module, case_id):
    m, env = module(case_id), oracle.point(case_id)
    v = structured(case_id, oracle.direction(case_id, env))
    blocked = [
        name
        for name in ("loss", "grad", "hvp")
        if "block_size" in inspect.signature(getattr(m, name)).parameters
    ]
    if CASES[case_id].prediction is not None:  # neurons and networks run over the rows of X
        assert blocked == ["loss", "grad", "hvp"]
    for name in blocked:
        extra = (v,) if name == "hvp" else ()
        whole = getattr(m, name)(*args(case_id, env), *extra)
        rows = getattr(m, name)(*args(case_id, env), *extra, block_size=2)
        if name != "loss":
            whole, rows = flat(by_name(case_id, whole, name)), flat(by_name(case_id, rows, name))
        assert relative_error(rows, whole) < 1e-12, name


# --------------------------------------------------------------------------- stable row-wise functions

SOFTMAX_NETWORKS = [name for name, spec in oracle.NETWORKS.items() if spec[1] == "softmax_cross_entropy"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case_id", SOFTMAX_NETWORKS)
def test_softmax_network_is_finite_at_logits_of_1e4(module, case_id, dtype):
    m, env = module(case_id), oracle.point(case_id)
    last = oracle.parameters(case_id)[-1]  # the last bias: logits of about ±1e4
    env[last] = np.resize([1e4, -1e4, 0.0], np.shape(env[last]))
    v = structured(case_id, oracle.direction(case_id, env), dtype)
    # exp(z - max z) of -2e4 is 0 in a stable softmax: an underflow is the right result
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        value = m.loss(*args(case_id, env, dtype))
        gradients = by_name(case_id, m.grad(*args(case_id, env, dtype)), "grad")
        hvp = by_name(case_id, m.hvp(*args(case_id, env, dtype), v), "hvp")
        probabilities = m.predict(*[_as(env[name], dtype) for name in oracle.parameters(case_id) + ["X"]])
    assert np.isfinite(value) and np.isfinite(flat(gradients)).all() and np.isfinite(flat(hvp)).all()
    assert np.allclose(np.sum(probabilities, axis=1), 1.0, atol=1e-5)


# --------------------------------------------------------------------------- all the modules at once


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Every case's module in one folder, with its arguments and a direction (.npz), and the
    cases whose generation failed (their own tests report why)."""
    folder = tmp_path_factory.mktemp("all_modules")
    failed = {}
    for case_id in IDS:
        try:
            text = oracle.source(case_id)
        except Exception as error:  # noqa: BLE001 (reported by the case's own tests)
            failed[case_id] = f"{type(error).__name__}: {error}"
            continue
        (folder / f"{_file_name(case_id)}.py").write_text(text, encoding="utf-8")
        env = oracle.point(case_id)
        v = oracle.direction(case_id, env)
        np.savez(
            folder / f"{_file_name(case_id)}.npz",
            *args(case_id, env),
            *[v[name] for name in oracle.parameters(case_id)],
        )
    return folder, failed


CHILD = r"""
import sys
for name in ("sympy", "symderiv", "jinja2", "mpmath"):
    sys.modules[name] = None  # importing any of these now raises ImportError
import importlib.util, json
from pathlib import Path
import numpy as np

folder, results = Path(sys.argv[1]), {}
for path in sorted(folder.glob("*.py")):
    try:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        data = np.load(path.with_suffix(".npz"))
        values = [data[f"arr_{i}"] for i in range(len(data.files))]
        k = len(m._WRT)
        arguments, direction = values[: len(values) - k], values[len(values) - k :]
        arguments = [a[()] if a.ndim == 0 else a for a in arguments]
        direction = direction[0] if k == 1 else tuple(direction)
        g, h = m.grad(*arguments), m.hvp(*arguments, direction)
        g, h = ((g,), (h,)) if k == 1 else (g, h)
        flat = [float(x) for part in (*g, *h) for x in np.ravel(part)]
        results[path.stem] = {"ok": flat}
    except BaseException as error:
        results[path.stem] = {"error": f"{type(error).__name__}: {error}"}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def without_sympy(written):
    """grad and hvp of every module, imported in one child process where SymPy cannot be."""
    folder, _ = written
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("case_id", IDS)
def test_the_module_runs_where_sympy_cannot_be_imported(module, written, without_sympy, case_id):
    assert case_id not in written[1], written[1].get(case_id)
    outcome = without_sympy[_file_name(case_id)]
    assert "error" not in outcome, outcome.get("error")
    m, env = module(case_id), oracle.point(case_id)
    here_grad = by_name(case_id, m.grad(*args(case_id, env)), "grad")
    v = structured(case_id, oracle.direction(case_id, env))
    here_hvp = by_name(case_id, m.hvp(*args(case_id, env), v), "hvp")
    assert relative_error(np.array(outcome["ok"]), np.concatenate([flat(here_grad), flat(here_hvp)])) < 1e-12


def _ruff() -> list | None:
    if shutil.which("ruff"):
        return [shutil.which("ruff")]
    try:
        import ruff  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "ruff"]


def test_every_module_passes_ruff_check_and_format(written):
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install ruff)")
    folder, _ = written
    config = ["--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    for command in (["check", *config, "."], ["format", *config, "--check", "."]):
        result = subprocess.run(
            ruff + command, cwd=folder, capture_output=True, text=True, timeout=300, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


HASH = """
import hashlib, symderiv
from symderiv.codegen import generate
net = symderiv.network([symderiv.dense("h", "relu"), symderiv.dense("k")], loss="softmax_cross_entropy",
                       regularizers=[symderiv.l2(0.01), symderiv.l1(0.001)])
texts = [generate(net, wrt=net.parameters), generate(symderiv.loss("huber", symderiv.neuron("elu")), wrt=("w", "b"))]
print(hashlib.sha256("\\0".join(texts).encode()).hexdigest())
"""


def test_generation_is_byte_identical_under_any_hash_seed():
    children = [
        subprocess.Popen(
            [sys.executable, "-c", HASH],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        for seed in ("0", "1")
    ]
    outputs = [child.communicate(timeout=300) for child in children]
    for child, (_, err) in zip(children, outputs):
        assert child.returncode == 0, err
    digests = {out.strip() for out, _ in outputs}
    assert len(digests) == 1 and len(hashlib.sha256().hexdigest()) == len(digests.pop())
