"""A tiny, safe arithmetic evaluator for calculated questions (no eval())."""
from __future__ import annotations

import ast
import operator

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_FUNCTIONS = {"min": min, "max": max, "round": round, "abs": abs}


class FormulaError(ValueError):
    pass


def parse(expression: str, variables: set[str], *, allow_comparison: bool = False) -> ast.Expression:
    """Parse and check an expression: only numbers, the given variables, + - * / ( ), min/max/round/abs
    (and comparisons with and/or when ``allow_comparison``)."""
    try:
        tree = ast.parse(str(expression), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot read expression {expression!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
            if isinstance(node, ast.operator) and type(node) not in _BINARY:
                raise FormulaError(f"operator {type(node).__name__} is not allowed")
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            continue
        if isinstance(node, ast.Name):
            if node.id not in variables and node.id not in _FUNCTIONS:
                raise FormulaError(f"unknown variable {node.id!r}")
            continue
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords:
            continue
        if allow_comparison and isinstance(node, (ast.Compare, ast.BoolOp)):
            continue
        raise FormulaError(f"{type(node).__name__} is not allowed in {expression!r}")
    return tree


def evaluate(expression: str, values: dict[str, float], *, allow_comparison: bool = False):
    tree = parse(expression, set(values), allow_comparison=allow_comparison)
    try:
        return _eval(tree.body, values)
    except ZeroDivisionError:
        raise FormulaError(f"division by zero in {expression!r} with {values}") from None


def _eval(node, values):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.Call):
        return _FUNCTIONS[node.func.id](*[_eval(arg, values) for arg in node.args])
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, values)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        results = [_eval(v, values) for v in node.values]
        return all(results) if isinstance(node.op, ast.And) else any(results)
    raise FormulaError(f"cannot evaluate {type(node).__name__}")
