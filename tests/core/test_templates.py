"""The bundled templates load, analyse without errors and match the published totals.

Published figures: torchvision's model table (AlexNet 61,100,840 params, 0.71 GFLOPS which
torchvision counts as multiply-adds; VGG-16 138,357,544 and 15.47 G), Keras' MobileNet summary
(4,253,864 params of which 4,231,976 trainable) and the MobileNet paper (569 M mult-adds);
LeNet-5's 61,706 is the usual figure for the full-C3 re-implementation.
"""

from __future__ import annotations

import pytest

from convdesigner.core.analysis import analyse
from convdesigner.core.layers import BatchNorm2D, Conv2D
from convdesigner.core.templates import (
    ORDER,
    UnknownTemplateError,
    default_design,
    list_templates,
    load_template,
    template_path,
)


def test_every_listed_template_is_bundled_in_menu_order() -> None:
    templates = list_templates()
    assert [t.id for t in templates] == list(ORDER)
    for t in templates:
        assert t.path.is_file()
        assert t.title
        assert len(t.description) > 40
        design = load_template(t.id)
        assert design.name == t.title
        assert design.description == t.description
        assert analyse(design).ok


def test_unknown_template_names_the_available_ones() -> None:
    with pytest.raises(UnknownTemplateError) as info:
        load_template("resnet-9000")
    assert "'resnet-9000'" in str(info.value)
    assert "qa-example" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_default_design_is_the_qa_example() -> None:
    assert default_design() == load_template("qa-example")
    assert template_path("qa-example").name == "qa-example.json"


@pytest.mark.parametrize(
    ("template", "params", "trainable", "macs_low", "macs_high"),
    [
        ("lenet5", 61_706, 61_706, 0.41e6, 0.42e6),
        ("alexnet", 61_100_840, 61_100_840, 0.710e9, 0.718e9),  # "about 714 M"
        ("vgg16", 138_357_544, 138_357_544, 15.46e9, 15.48e9),  # "about 15.47 G"
        ("mobilenet-v1", 4_253_864, 4_231_976, 0.565e9, 0.573e9),  # "about 569 M"
    ],
)
def test_published_totals(
    template: str, params: int, trainable: int, macs_low: float, macs_high: float
) -> None:
    totals = analyse(load_template(template)).totals
    assert totals.params == params
    assert totals.trainable == trainable
    assert totals.non_trainable == params - trainable
    assert macs_low <= totals.macs <= macs_high


def test_exact_mac_counts() -> None:
    # Pinned so a change in the MAC convention is a conscious decision (docs/formulas.md).
    assert analyse(load_template("alexnet")).totals.macs == 714_188_480
    assert analyse(load_template("vgg16")).totals.macs == 15_470_264_320
    assert analyse(load_template("mobilenet-v1")).totals.macs == 568_740_352


def test_shapes_at_landmark_layers() -> None:
    alex = analyse(load_template("alexnet"))
    maps = [r for r in alex.rows if r.type == "maxpool2d"]
    assert maps[-1].output_shape == (256, 6, 6)  # why torchvision's adaptive pool is a no-op
    vgg = analyse(load_template("vgg16"))
    assert [r for r in vgg.rows if r.type == "maxpool2d"][-1].output_shape == (512, 7, 7)
    assert next(r for r in vgg.rows if r.type == "flatten").output_shape == (25_088,)
    mob = analyse(load_template("mobilenet-v1"))
    assert mob.rows[1].output_shape == (32, 112, 112)
    assert next(r for r in mob.rows if r.type == "globalavgpool2d").input_shape == (1024, 7, 7)
    lenet = analyse(load_template("lenet5"))
    assert next(r for r in lenet.rows if r.name == "C5").output_shape == (120, 1, 1)


def test_mobilenet_is_built_like_keras() -> None:
    design = load_template("mobilenet-v1")
    convs = [layer for layer in design.layers if isinstance(layer, Conv2D)]
    assert len(convs) == 27  # conv1 + 13 × (depthwise + pointwise)
    assert all(not c.bias for c in convs)
    depthwise = [c for c in convs if c.groups > 1]
    assert len(depthwise) == 13
    assert all(c.groups == c.filters and c.kernel == (3, 3) for c in depthwise)
    assert all(isinstance(layer, BatchNorm2D) and layer.eps == 1e-3
               for i, layer in enumerate(design.layers) if i % 3 == 1 and i < 81)  # fmt: skip
