"""Shapes with an area."""

import math


class Shape:
    """Anything with an area."""

    def area(self) -> float:
        """The area in square units."""
        raise NotImplementedError


class Circle(Shape):
    """A circle around the origin."""

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return math.pi * square(self.radius)


class Rect(Shape):
    """An axis-aligned rectangle."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height

    def area(self) -> float:
        return self.width * self.height


def square(x: float) -> float:
    """`x` times itself."""
    return x * x


def total_area(shapes: list[Shape]) -> float:
    """The sum of the areas of `shapes`."""
    return sum(shape.area() for shape in shapes)
