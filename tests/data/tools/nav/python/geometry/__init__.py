"""Plane geometry for the navigation tests."""

from geometry.shapes import Circle, Rect, total_area

__all__ = ["Circle", "Rect", "total_area"]
