"""Rules of the row-wise functions softmax, log_softmax and logsumexp (of a vector, or of each
row of a matrix). With s = softmax(z): d softmax = s ⊙ (dz − (sᵀdz) 1), d log_softmax =
dz − (sᵀdz) 1 and d logsumexp = sᵀdz."""

from __future__ import annotations

from .. import ir
from ..explain import Prose
from ..ir import Diag, Identity, Node, Ones, Outer, Row, mul, sub
from . import RULES, Context, register


def row_sums(a: Node) -> Node:
    """Σ_j a_j of a vector, or of each row of a matrix."""
    return ir.total(a, 1 if len(a.shape) == 2 else None)


def spread(v: Node, like: Node) -> Node:
    """A per-row value repeated along each row of ``like`` (a scalar stays a scalar)."""
    return ir.broadcast(v, 1, like.shape[1]) if len(like.shape) == 2 else v


def _probabilities(n: Node, c: Context) -> Node:
    return c.value_of(n) if isinstance(n, ir.Softmax) else ir.softmax(n.args[0])


def _centred(d: Node, s: Node) -> Node:
    """d − (sᵀd) 1, row by row."""
    return sub(d, spread(row_sums(mul(s, d)), d))


def _explain(n: Node, k: int, c: Context, name: str, verb: str, rest: str) -> Prose:
    """``name`` of z ``verb`` z ``rest``: so its differential is the rule's JVP (row by row)."""
    z = n.args[0]
    rows = ", row by row" if len(z.shape) == 2 else ""
    change = RULES[type(n)].jvp(n, k, ir.Differential(z), c)
    return Prose(name, n, verb, z, rest, rows, ", so its differential is ", change)


def _vector_only(n: Node, build):
    return build() if len(n.args[0].shape) == 1 else None


register(
    ir.Softmax,
    "softmax",
    jvp=lambda n, k, d, c: mul(_probabilities(n, c), _centred(d, _probabilities(n, c))),
    vjp=lambda n, g, k, c: mul(_probabilities(n, c), sub(g, spread(row_sums(mul(g, _probabilities(n, c))), g))),
    jacobian=lambda n, k, c: _vector_only(
        n, lambda: ir.Sub(Diag(_probabilities(n, c)), Outer(_probabilities(n, c), _probabilities(n, c)))
    ),
    explain=lambda n, k, c: _explain(n, k, c, "the softmax ", " is the exponential of ",
                                     " divided by its sum"),
)

register(
    ir.LogSoftmax,
    "log-softmax",
    jvp=lambda n, k, d, c: _centred(d, _probabilities(n, c)),
    vjp=lambda n, g, k, c: sub(g, mul(_probabilities(n, c), spread(row_sums(g), g))),
    jacobian=lambda n, k, c: _vector_only(
        n, lambda: ir.Sub(Identity(n.shape[0]), Outer(Ones(n.shape), _probabilities(n, c)))
    ),
    explain=lambda n, k, c: _explain(n, k, c, "the log-softmax ", " is ", " minus its log-sum-exp"),
)

register(
    ir.LogSumExp,
    "log-sum-exp",
    jvp=lambda n, k, d, c: row_sums(mul(_probabilities(n, c), d)),
    vjp=lambda n, g, k, c: mul(_probabilities(n, c), spread(g, n.args[0])),
    jacobian=lambda n, k, c: _vector_only(n, lambda: Row(_probabilities(n, c))),
    explain=lambda n, k, c: _explain(n, k, c, "the log-sum-exp ", " weighs each element of ",
                                     " by its softmax probability"),
)
