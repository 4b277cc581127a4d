"""Prints the area of a few shapes."""

from geometry import Circle, Rect, total_area
from geometry.shapes import square


def main() -> None:
    shapes = [Circle(1.0), Rect(2.0, square(1.5))]
    print(total_area(shapes))


if __name__ == "__main__":
    main()
