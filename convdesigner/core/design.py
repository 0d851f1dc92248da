"""A design: the input specification plus an ordered tuple of layers.

Designs are immutable values. Every edit (insert, move, remove, replace) returns a new design, so
undo is "keep the old value", views can compare designs with ``==``, and a background computation
can never see a design change under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from convdesigner.core.layers import Layer, LayerSettingError, to_name, to_positive_int

MAX_INPUT_SIDE = 16384
MAX_INPUT_CHANNELS = 4096


@dataclass(frozen=True)
class InputSpec:
    """The input tensor: height × width × channels (one image, no batch dimension)."""

    height: int = 224
    width: int = 224
    channels: int = 3

    def __post_init__(self) -> None:
        for attr, limit in (
            ("height", MAX_INPUT_SIDE),
            ("width", MAX_INPUT_SIDE),
            ("channels", MAX_INPUT_CHANNELS),
        ):
            object.__setattr__(
                self, attr, to_positive_int(getattr(self, attr), attr, maximum=limit)
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W), the order the analysis and engine use."""
        return (self.channels, self.height, self.width)


@dataclass(frozen=True)
class Design:
    input: InputSpec = field(default_factory=InputSpec)
    layers: tuple[Layer, ...] = ()
    name: str = "Untitled"
    description: str = ""
    """Free text shown with templates (what the design is, which variant); kept when saved."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        # Checked here so that a scripting mistake fails where it is made, not inside analyse().
        if not isinstance(self.input, InputSpec):
            raise TypeError(f"input must be an InputSpec, got {type(self.input).__name__}")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a layer, got {type(layer).__name__}")
        object.__setattr__(self, "name", to_name(self.name))
        if not isinstance(self.description, str):
            raise LayerSettingError("description", "must be a string")

    def __len__(self) -> int:
        return len(self.layers)

    def _check_index(self, index: int, *, allow_end: bool = False) -> None:
        upper = len(self.layers) if allow_end else len(self.layers) - 1
        if not 0 <= index <= upper:
            raise IndexError(f"layer index {index} is out of range 0..{upper}")

    def insert(self, index: int, layer: Layer) -> Design:
        """A copy with ``layer`` at ``index`` (``len(design)`` appends)."""
        self._check_index(index, allow_end=True)
        layers = list(self.layers)
        layers.insert(index, layer)
        return replace(self, layers=tuple(layers))

    def append(self, layer: Layer) -> Design:
        return self.insert(len(self.layers), layer)

    def remove(self, index: int) -> Design:
        self._check_index(index)
        return replace(self, layers=self.layers[:index] + self.layers[index + 1 :])

    def move(self, source: int, destination: int) -> Design:
        """A copy with the layer at ``source`` now at index ``destination`` (after removal)."""
        self._check_index(source)
        layers = list(self.layers)
        layer = layers.pop(source)
        if not 0 <= destination <= len(layers):
            raise IndexError(f"layer index {destination} is out of range 0..{len(layers)}")
        layers.insert(destination, layer)
        return replace(self, layers=tuple(layers))

    def replace_layer(self, index: int, layer: Layer) -> Design:
        self._check_index(index)
        layers = list(self.layers)
        layers[index] = layer
        return replace(self, layers=tuple(layers))

    def with_input(self, spec: InputSpec) -> Design:
        return replace(self, input=spec)

    def with_name(self, name: str) -> Design:
        return replace(self, name=name)
