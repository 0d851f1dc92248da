"""Layer settings validation and the immutable design operations."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import (
    LAYER_TYPES,
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    LayerSettingError,
    MaxPool2D,
    ReLU,
)
from convdesigner.core.ops import REGISTRY, spec_for


@pytest.mark.parametrize(
    ("make", "field", "phrase"),
    [
        (lambda: Conv2D(kernel=-3), "kernel", "must be a positive integer or [h, w] pair, got -3"),
        (lambda: Conv2D(kernel=0), "kernel", "got 0"),
        (lambda: Conv2D(kernel=(3, 0)), "kernel", "got [3, 0]"),
        (lambda: Conv2D(kernel=(3, 3, 3)), "kernel", "got [3, 3, 3]"),  # type: ignore[arg-type]
        (lambda: Conv2D(kernel=2.5), "kernel", "got 2.5"),  # type: ignore[arg-type]
        (lambda: Conv2D(kernel=True), "kernel", "got true"),
        (lambda: Conv2D(kernel="3"), "kernel", 'got "3"'),  # type: ignore[arg-type]
        (lambda: Conv2D(kernel=20_000), "kernel", "at most 16,384"),
        (lambda: Conv2D(stride=0), "stride", "positive integer"),
        (lambda: Conv2D(dilation=[1, -1]), "dilation", "positive integer"),
        (lambda: Conv2D(padding=-1), "padding", "non-negative integer"),
        (lambda: Conv2D(padding="full"), "padding", '"valid", "same"'),  # type: ignore[arg-type]
        (lambda: Conv2D(padding=[1]), "padding", "[h, w] pair"),
        (lambda: Conv2D(padding=99_999), "padding", "at most 16,384"),
        (lambda: Conv2D(filters=0), "filters", "positive integer"),
        (lambda: Conv2D(filters=2_000_000), "filters", "at most 1,000,000"),
        (lambda: Conv2D(groups=0), "groups", "positive integer"),
        (lambda: Conv2D(bias=1), "bias", "true or false"),  # type: ignore[arg-type]
        (lambda: MaxPool2D(stride=0), "stride", "positive integer"),
        (lambda: MaxPool2D(ceil_mode="yes"), "ceil_mode", "true or false"),  # type: ignore[arg-type]
        (lambda: AvgPool2D(count_include_pad=None), "count_include_pad", "got null"),  # type: ignore[arg-type]
        (lambda: BatchNorm2D(eps=0), "eps", "between 0 and 1"),
        (lambda: BatchNorm2D(eps=float("nan")), "eps", "between 0 and 1"),
        (lambda: Dropout(rate=1.0), "rate", "not including"),
        (lambda: Dropout(rate=-0.1), "rate", "from 0"),
        (lambda: Dense(units=0), "units", "positive integer"),
        (lambda: ReLU(name=3), "name", "must be a string"),  # type: ignore[arg-type]
        (lambda: ReLU(name="x" * 201), "name", "at most 200"),
    ],
)
def test_bad_settings_name_the_field(make, field: str, phrase: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LayerSettingError) as info:
        make()
    assert info.value.field_name == field
    assert phrase in info.value.message
    assert str(info.value).startswith(f"{field}: ")


def test_long_values_are_cut_short_in_messages() -> None:
    with pytest.raises(LayerSettingError) as info:
        Conv2D(kernel=list(range(1000)))
    assert len(info.value.message) < 150
    with pytest.raises(LayerSettingError) as info:
        Conv2D(kernel=10**5000)
    assert "huge" in info.value.message


def test_sizes_are_stored_as_pairs() -> None:
    layer = Conv2D(kernel=5, stride=[2, 1], padding=1, dilation=(1, 2))
    assert layer.kernel == (5, 5)
    assert layer.stride == (2, 1)
    assert layer.padding == (1, 1)
    assert layer.dilation == (1, 2)
    assert Conv2D(padding="same").padding == "same"


def test_with_changes_validates() -> None:
    layer = Conv2D(filters=4)
    assert layer.with_changes(filters=8) == Conv2D(filters=8)
    assert Conv2D(filters=4, kernel=5).kernel == (5, 5)
    assert layer.with_changes(kernel=5) == Conv2D(filters=4, kernel=(5, 5))
    with pytest.raises(LayerSettingError):
        layer.with_changes(kernel=0)
    assert layer.filters == 4  # frozen: the original is untouched


def test_layers_are_frozen_and_hashable() -> None:
    layer = Conv2D()
    with pytest.raises(AttributeError):
        layer.filters = 3  # type: ignore[misc]
    assert hash(layer) == hash(Conv2D())


def test_layer_types_registry() -> None:
    # Palette order; the file format's "type" values. Every type of version 1 is still here.
    assert list(LAYER_TYPES) == [
        "conv2d",
        "convtranspose2d",
        "maxpool2d",
        "avgpool2d",
        "globalavgpool2d",
        "relu",
        "relu6",
        "leakyrelu",
        "sigmoid",
        "tanh",
        "silu",
        "hardswish",
        "gelu",
        "softmax",
        "batchnorm2d",
        "flatten",
        "dense",
        "dropout",
        "zeropad2d",
        "upsample",
        "identity",
        "add",
        "concat",
        "multiply",
    ]
    assert {name: spec.cls for name, spec in REGISTRY.items()} == LAYER_TYPES
    for name, cls in LAYER_TYPES.items():
        assert cls.type_name == name
        assert cls().label == cls.display_name  # no name given: the type's display name
        assert cls.description
        assert spec_for(cls) is REGISTRY[name]
        # The loader, the forms and validation read FIELDS: a setting missing there would be
        # neither checked nor editable.
        assert [f.name for f in cls.FIELDS] == [k for k in cls().settings() if k != "name"]


def test_settings_lists_fields_in_order() -> None:
    assert list(Conv2D().settings()) == [
        "name",
        "filters",
        "kernel",
        "stride",
        "padding",
        "dilation",
        "groups",
        "bias",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"height": 0}, "height"),
        ({"width": -1}, "width"),
        ({"channels": 0}, "channels"),
        ({"height": 16385}, "height"),
        ({"width": 2_000_000}, "width"),
        ({"channels": 5000}, "channels"),
        ({"height": 2.0}, "height"),
    ],
)
def test_input_spec_validation(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(LayerSettingError) as info:
        InputSpec(**kwargs)  # type: ignore[arg-type]
    assert info.value.field_name == field
    value = next(iter(kwargs.values()))
    if isinstance(value, int) and value > 1:
        limit = "4,096" if field == "channels" else "16,384"
        assert f"must be at most {limit}" in info.value.message


def test_design_edits_return_new_designs() -> None:
    a, b, c = Conv2D(filters=1), ReLU(), Dense()
    design = Design(InputSpec(10, 12, 1), (a, b), name="d")
    assert design.input.shape == (1, 10, 12)
    assert design.append(c).layers == (a, b, c)
    assert design.insert(0, c).layers == (c, a, b)
    assert design.insert(1, c).layers == (a, c, b)
    assert design.remove(0).layers == (b,)
    assert design.move(0, 1).layers == (b, a)
    assert design.replace_layer(1, c).layers == (a, c)
    assert design.with_input(InputSpec(1, 1, 1)).input == InputSpec(1, 1, 1)
    assert design.with_name("e").name == "e"
    assert design.layers == (a, b)  # unchanged
    assert len(design) == 2
    assert Design(layers=[a]).layers == (a,)


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.insert(3, ReLU()),
        lambda d: d.insert(-1, ReLU()),
        lambda d: d.remove(2),
        lambda d: d.move(2, 0),
        lambda d: d.move(0, 2),
        lambda d: d.replace_layer(5, ReLU()),
    ],
)
def test_design_edits_check_indexes(edit) -> None:  # type: ignore[no-untyped-def]
    design = Design(layers=(Conv2D(), ReLU()))
    with pytest.raises(IndexError, match="out of range"):
        edit(design)


def test_design_description_and_name_are_checked() -> None:
    assert Design(description="about").description == "about"
    with pytest.raises(LayerSettingError):
        Design(description=3)  # type: ignore[arg-type]
    with pytest.raises(LayerSettingError):
        Design(name="x" * 300)


def test_design_checks_its_parts_types() -> None:
    with pytest.raises(TypeError, match=r"layers\[1\] must be a layer, got dict"):
        Design(layers=(ReLU(), {"type": "relu"}))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="input must be an InputSpec"):
        Design(input=(3, 8, 8))  # type: ignore[arg-type]


def test_sizes_written_as_ints_are_pairs_and_layers_stay_plain_values() -> None:
    # kernel=7 and kernel=(7, 7) are one layer: equal, same hash, same copy and pickle.
    import copy
    import pickle
    from dataclasses import fields

    short = MaxPool2D(kernel=3, stride=2, padding=1)
    long = MaxPool2D(kernel=(3, 3), stride=[2, 2], padding=(1, 1))
    assert short == long
    assert hash(short) == hash(long)
    assert (short.kernel, short.stride, short.padding) == ((3, 3), (2, 2), (1, 1))
    assert pickle.loads(pickle.dumps(short)) == short
    assert copy.deepcopy(short) == short
    assert MaxPool2D().stride is None
    assert MaxPool2D().effective_stride == (2, 2)
    defaults = {f.name: f.default for f in fields(Conv2D)}
    assert defaults["kernel"] == (3, 3)
    assert defaults["padding"] == (0, 0)
    assert [f.name for f in fields(AvgPool2D)] == [
        "name",
        "kernel",
        "stride",
        "padding",
        "ceil_mode",
        "count_include_pad",
    ]
    with pytest.raises(FrozenInstanceError):
        short.kernel = (5, 5)  # type: ignore[misc]
