"""Small immutable Python values for the Godot Variant types that have no Python equivalent.

Used by `webrtc.variant` (`put_var`/`get_var`, RPC arguments). Mapping of the rest:
None = NIL, bool = BOOL, int = INT (64-bit), float = FLOAT (double), str = String,
bytes = PackedByteArray, list/tuple = untyped Array, dict = untyped Dictionary.

`StringName` is a `str` subclass: it compares and hashes equal to the same `str`, as Godot's
`StringName`/`String` do in comparisons and in Dictionary keys (`StringLikeVariantComparator`),
but it is encoded as STRING_NAME (21) while a plain `str` is encoded as STRING (4).

Real-valued types (Vector2, Rect2, Transform3D, ...) model a standard Godot build, whose
`real_t` is single precision: their components are rounded to IEEE single precision when the
value is built, so what Python holds is exactly what Godot holds. Color is single precision in
every build. Integer vectors hold 32-bit signed ints. Values that do not fit raise
`GodotValueError`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Generic, TypeVar

_F32 = struct.Struct("<f")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class GodotValueError(ValueError):
    """A value that a Godot Variant of that type cannot hold."""


class VariantType(IntEnum):
    """`Variant::Type` (core/variant/variant.h), the low byte of every encoded header."""

    NIL = 0
    BOOL = 1
    INT = 2
    FLOAT = 3
    STRING = 4
    VECTOR2 = 5
    VECTOR2I = 6
    RECT2 = 7
    RECT2I = 8
    VECTOR3 = 9
    VECTOR3I = 10
    TRANSFORM2D = 11
    VECTOR4 = 12
    VECTOR4I = 13
    PLANE = 14
    QUATERNION = 15
    AABB = 16
    BASIS = 17
    TRANSFORM3D = 18
    PROJECTION = 19
    COLOR = 20
    STRING_NAME = 21
    NODE_PATH = 22
    RID = 23
    OBJECT = 24
    CALLABLE = 25
    SIGNAL = 26
    DICTIONARY = 27
    ARRAY = 28
    PACKED_BYTE_ARRAY = 29
    PACKED_INT32_ARRAY = 30
    PACKED_INT64_ARRAY = 31
    PACKED_FLOAT32_ARRAY = 32
    PACKED_FLOAT64_ARRAY = 33
    PACKED_STRING_ARRAY = 34
    PACKED_VECTOR2_ARRAY = 35
    PACKED_VECTOR3_ARRAY = 36
    PACKED_COLOR_ARRAY = 37
    PACKED_VECTOR4_ARRAY = 38


def f32(value: float) -> float:
    """`value` rounded to IEEE single precision as a C `(float)` cast does (too big → ±inf)."""
    try:
        return float(_F32.unpack(_F32.pack(value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def _real(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GodotValueError(f"expected a number, got {type(value).__name__}")
    return f32(float(value))


def _int32(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GodotValueError(f"expected an int, got {type(value).__name__}")
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise GodotValueError(f"{value} does not fit a 32-bit int")
    return value


def _int64(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GodotValueError(f"expected an int, got {type(value).__name__}")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise GodotValueError(f"{value} does not fit a 64-bit int")
    return value


def _check_str(value: Any) -> str:
    if not isinstance(value, str):
        raise GodotValueError(f"expected a str, got {type(value).__name__}")
    return value


class _Fields:
    """Normalises every field named in `_REAL`/`_INT` after the dataclass __init__."""

    _REAL: ClassVar[tuple[str, ...]] = ()
    _INT: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self._REAL:
            object.__setattr__(self, name, _real(getattr(self, name)))
        for name in self._INT:
            object.__setattr__(self, name, _int32(getattr(self, name)))


def _typed(value: Any, cls: type[Any]) -> None:
    if not isinstance(value, cls):
        raise GodotValueError(f"expected {cls.__name__}, got {type(value).__name__}")


class StringName(str):
    """Godot `StringName`: a `str` that is encoded as STRING_NAME instead of STRING."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"StringName({str.__repr__(self)})"


@dataclass(frozen=True)
class NodePath:
    """Godot `NodePath`: node names, then property subnames; `absolute` when it starts at "/"."""

    names: tuple[str, ...] = ()
    subnames: tuple[str, ...] = ()
    absolute: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(_check_str(n) for n in self.names))
        object.__setattr__(self, "subnames", tuple(_check_str(n) for n in self.subnames))
        object.__setattr__(self, "absolute", bool(self.absolute))

    @classmethod
    def from_string(cls, path: str) -> NodePath:
        """Parse Godot's text form: `"/root/Main/Player:position:x"`, `"Main/Player"`, `"."`
        (`NodePath(String)`: empty names are skipped, a trailing ":" is allowed, an empty
        subname elsewhere makes the path invalid, which Godot turns into an empty path)."""
        absolute = path.startswith("/")
        node_part, colon, sub_part = path.partition(":")
        names = tuple(n for n in node_part.split("/") if n)
        subnames = sub_part.split(":") if colon else []
        if subnames and subnames[-1] == "":
            subnames.pop()
        if "" in subnames:
            return cls()
        return cls(names, tuple(subnames), absolute)

    def __str__(self) -> str:
        text = ("/" if self.absolute else "") + "/".join(self.names)
        return text + "".join(":" + s for s in self.subnames)


@dataclass(frozen=True)
class Vector2(_Fields):
    x: float = 0.0
    y: float = 0.0
    _REAL = ("x", "y")


@dataclass(frozen=True)
class Vector2i(_Fields):
    x: int = 0
    y: int = 0
    _INT = ("x", "y")


@dataclass(frozen=True)
class Vector3(_Fields):
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    _REAL = ("x", "y", "z")


@dataclass(frozen=True)
class Vector3i(_Fields):
    x: int = 0
    y: int = 0
    z: int = 0
    _INT = ("x", "y", "z")


@dataclass(frozen=True)
class Vector4(_Fields):
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    w: float = 0.0
    _REAL = ("x", "y", "z", "w")


@dataclass(frozen=True)
class Vector4i(_Fields):
    x: int = 0
    y: int = 0
    z: int = 0
    w: int = 0
    _INT = ("x", "y", "z", "w")


@dataclass(frozen=True)
class Quaternion(_Fields):
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    w: float = 1.0
    _REAL = ("x", "y", "z", "w")


@dataclass(frozen=True)
class Color(_Fields):
    """Godot `Color`: always single precision (marshalls.cpp: "Colors should always be in
    single-precision")."""

    r: float = 0.0
    g: float = 0.0
    b: float = 0.0
    a: float = 1.0
    _REAL = ("r", "g", "b", "a")


@dataclass(frozen=True)
class Rect2:
    position: Vector2 = Vector2()
    size: Vector2 = Vector2()

    def __post_init__(self) -> None:
        _typed(self.position, Vector2)
        _typed(self.size, Vector2)


@dataclass(frozen=True)
class Rect2i:
    position: Vector2i = Vector2i()
    size: Vector2i = Vector2i()

    def __post_init__(self) -> None:
        _typed(self.position, Vector2i)
        _typed(self.size, Vector2i)


@dataclass(frozen=True)
class Plane:
    normal: Vector3 = Vector3()
    d: float = 0.0

    def __post_init__(self) -> None:
        _typed(self.normal, Vector3)
        object.__setattr__(self, "d", _real(self.d))


@dataclass(frozen=True)
class AABB:
    position: Vector3 = Vector3()
    size: Vector3 = Vector3()

    def __post_init__(self) -> None:
        _typed(self.position, Vector3)
        _typed(self.size, Vector3)


@dataclass(frozen=True)
class Transform2D:
    """Columns `x`, `y` (the basis axes) and `origin`, as GDScript's `Transform2D` properties."""

    x: Vector2 = Vector2(1.0, 0.0)
    y: Vector2 = Vector2(0.0, 1.0)
    origin: Vector2 = Vector2()

    def __post_init__(self) -> None:
        for axis in (self.x, self.y, self.origin):
            _typed(axis, Vector2)


@dataclass(frozen=True)
class Basis:
    """Columns `x`, `y`, `z` as GDScript's `Basis.x/.y/.z` (Godot stores rows; the wire is
    row-major, so row i is `(x[i], y[i], z[i])`)."""

    x: Vector3 = Vector3(1.0, 0.0, 0.0)
    y: Vector3 = Vector3(0.0, 1.0, 0.0)
    z: Vector3 = Vector3(0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        for axis in (self.x, self.y, self.z):
            _typed(axis, Vector3)


@dataclass(frozen=True)
class Transform3D:
    basis: Basis = Basis()
    origin: Vector3 = Vector3()

    def __post_init__(self) -> None:
        _typed(self.basis, Basis)
        _typed(self.origin, Vector3)


@dataclass(frozen=True)
class Projection:
    """Columns `x`, `y`, `z`, `w` (Vector4 each), as GDScript's `Projection` properties."""

    x: Vector4 = Vector4(1.0, 0.0, 0.0, 0.0)
    y: Vector4 = Vector4(0.0, 1.0, 0.0, 0.0)
    z: Vector4 = Vector4(0.0, 0.0, 1.0, 0.0)
    w: Vector4 = Vector4(0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        for axis in (self.x, self.y, self.z, self.w):
            _typed(axis, Vector4)


@dataclass(frozen=True)
class RID:
    """Godot `RID`: an opaque 64-bit id (meaningful only inside the process that made it)."""

    id: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, int) or not 0 <= self.id < 2**64:
            raise GodotValueError("RID id must be an unsigned 64-bit int")


T = TypeVar("T")


class _Sequence(Generic[T]):
    """Immutable sequence base: equal only to the same class with equal values."""

    __slots__ = ("_values",)

    def __init__(self, values: Iterable[T] = ()) -> None:
        self._values: tuple[T, ...] = tuple(self._check(v) for v in values)

    def _check(self, value: Any) -> T:
        raise NotImplementedError

    @property
    def values(self) -> tuple[T, ...]:
        return self._values

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[T]:
        return iter(self._values)

    def __getitem__(self, index: int) -> T:
        return self._values[index]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, type(self))
            and type(other) is type(self)
            and other._values == self._values
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._values)!r})"


class PackedInt32Array(_Sequence[int]):
    def _check(self, value: Any) -> int:
        return _int32(value)


class PackedInt64Array(_Sequence[int]):
    def _check(self, value: Any) -> int:
        return _int64(value)


class PackedFloat32Array(_Sequence[float]):
    def _check(self, value: Any) -> float:
        return _real(value)


class PackedFloat64Array(_Sequence[float]):
    def _check(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GodotValueError(f"expected a number, got {type(value).__name__}")
        return float(value)


class PackedStringArray(_Sequence[str]):
    def _check(self, value: Any) -> str:
        return str(_check_str(value))


class PackedVector2Array(_Sequence[Vector2]):
    def _check(self, value: Any) -> Vector2:
        _typed(value, Vector2)
        return value  # type: ignore[no-any-return]


class PackedVector3Array(_Sequence[Vector3]):
    def _check(self, value: Any) -> Vector3:
        _typed(value, Vector3)
        return value  # type: ignore[no-any-return]


class PackedColorArray(_Sequence[Color]):
    def _check(self, value: Any) -> Color:
        _typed(value, Color)
        return value  # type: ignore[no-any-return]


class PackedVector4Array(_Sequence[Vector4]):
    def _check(self, value: Any) -> Vector4:
        _typed(value, Vector4)
        return value  # type: ignore[no-any-return]


class TypedArray(_Sequence[Any]):
    """A typed Godot Array such as `Array[int]`: `TypedArray(VariantType.INT, [1, 2])`.

    Elements are checked against the type when encoded (`webrtc.variant`).
    """

    __slots__ = ("element_type",)

    def __init__(self, element_type: VariantType | int, values: Iterable[Any] = ()) -> None:
        self.element_type = VariantType(element_type)
        super().__init__(values)

    def _check(self, value: Any) -> Any:
        return value

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TypedArray)
            and other.element_type == self.element_type
            and other.values == self.values
        )

    def __hash__(self) -> int:
        return hash(("TypedArray", self.element_type, self.values))

    def __repr__(self) -> str:
        return f"TypedArray({self.element_type.name}, {list(self.values)!r})"


class TypedDictionary:
    """A typed Godot Dictionary such as `Dictionary[String, int]`; NIL leaves a side untyped."""

    __slots__ = ("_items", "key_type", "value_type")

    def __init__(
        self,
        key_type: VariantType | int,
        value_type: VariantType | int,
        items: Mapping[Any, Any] | None = None,
    ) -> None:
        self.key_type = VariantType(key_type)
        self.value_type = VariantType(value_type)
        self._items: dict[Any, Any] = dict(items or {})

    @property
    def items(self) -> Mapping[Any, Any]:
        return self._items

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TypedDictionary)
            and (other.key_type, other.value_type) == (self.key_type, self.value_type)
            and other._items == self._items
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TypedDictionary({self.key_type.name}, {self.value_type.name}, {self._items!r})"
