"""Every op of the registry has an entry in every oracle table, and no table names a stale op.

A new op is one module in convdesigner/core/ops; these tests make sure it cannot arrive without
its torch equivalent, its explicit-loop reference, its Hypothesis strategy and its random maker
(the tests that use them iterate the tables, so an op missing here would go unchecked).
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest
from hypothesis import find

from convdesigner.core.ops import REGISTRY
from tests.core.design_strategies import LAYER_STRATEGIES
from tests.core.engine.engine_reference import REFERENCE
from tests.oracles.random_graphs import RANDOM_OPS

TABLES: dict[str, Mapping[str, object]] = {
    "engine_reference.REFERENCE": REFERENCE,
    "design_strategies.LAYER_STRATEGIES": LAYER_STRATEGIES,
    "random_graphs.RANDOM_OPS": RANDOM_OPS,
}


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("type_name", list(REGISTRY))
def test_every_op_has_an_entry(type_name: str, table: str) -> None:
    assert type_name in TABLES[table], f"{type_name} has no entry in {table}"


@pytest.mark.parametrize("table", list(TABLES))
def test_no_entry_for_an_op_the_registry_lacks(table: str) -> None:
    assert set(TABLES[table]) <= set(REGISTRY)


@pytest.mark.parametrize("type_name", list(REGISTRY))
def test_every_random_maker_and_strategy_makes_its_own_type(type_name: str) -> None:
    layer = RANDOM_OPS[type_name](random.Random(0), (3, 8, 8))
    assert layer.type_name == type_name
    assert find(LAYER_STRATEGIES[type_name], lambda _: True).type_name == type_name


@pytest.mark.oracle
@pytest.mark.parametrize("type_name", list(REGISTRY))
def test_every_op_has_a_torch_equivalent(type_name: str) -> None:
    pytest.importorskip("torch")
    from tests.oracles.torch_modules import TORCH_OPS

    assert type_name in TORCH_OPS, f"{type_name} has no entry in torch_modules.TORCH_OPS"
    assert set(TORCH_OPS) <= set(REGISTRY)
