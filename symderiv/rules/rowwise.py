"""Rules of the row-wise functions softmax, log_softmax and logsumexp (of a vector, or of each
row of a matrix). With s = softmax(z): d softmax = s ⊙ (dz − (sᵀdz) 1), d log_softmax =
dz − (sᵀdz) 1 and d logsumexp = sᵀdz."""

from __future__ import annotations

from .. import ir
from ..ir import Diag, Identity, Node, Ones, Outer, Row, mul, sub
from . import Context, label, register


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
    explain=lambda n, k, c: f"softmax is exp({label(n.args[0])}) divided by its sum, so its differential "
    "is s ⊙ (dz − (sᵀdz) 1), row by row",
)

register(
    ir.LogSoftmax,
    "log-softmax",
    jvp=lambda n, k, d, c: _centred(d, _probabilities(n, c)),
    vjp=lambda n, g, k, c: sub(g, mul(_probabilities(n, c), spread(row_sums(g), g))),
    jacobian=lambda n, k, c: _vector_only(
        n, lambda: ir.Sub(Identity(n.shape[0]), Outer(Ones(n.shape), _probabilities(n, c)))
    ),
    explain=lambda n, k, c: f"log softmax({label(n.args[0])}) = z − logsumexp(z), so its differential "
    "is dz − (sᵀdz) 1 with s = softmax(z), row by row",
)

register(
    ir.LogSumExp,
    "log-sum-exp",
    jvp=lambda n, k, d, c: row_sums(mul(_probabilities(n, c), d)),
    vjp=lambda n, g, k, c: mul(_probabilities(n, c), spread(g, n.args[0])),
    jacobian=lambda n, k, c: _vector_only(n, lambda: Row(_probabilities(n, c))),
    explain=lambda n, k, c: f"d logsumexp(z) = softmax(z)ᵀ dz: the weights of {label(n.args[0])} are "
    "its softmax probabilities, row by row",
)
