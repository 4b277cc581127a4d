//! Shapes with an area.

/// Anything with an area.
pub trait Shape {
    /// The area in square units.
    fn area(&self) -> f64;
}

/// A circle around the origin.
#[derive(Debug, Clone, Copy)]
pub struct Circle {
    pub radius: f64,
}

impl Circle {
    /// A circle of the given radius.
    pub fn new(radius: f64) -> Circle {
        Circle { radius }
    }
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        std::f64::consts::PI * square(self.radius)
    }
}

/// An axis-aligned rectangle.
pub struct Rect {
    pub width: f64,
    pub height: f64,
}

impl Shape for Rect {
    fn area(&self) -> f64 {
        self.width * self.height
    }
}

/// `x` times itself.
pub fn square(x: f64) -> f64 {
    x * x
}
