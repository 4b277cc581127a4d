//! A tiny crate for the navigation tests.

pub mod shapes;

use shapes::{square, Circle, Rect, Shape};

/// The sum of the areas of `items`.
pub fn total_area(items: &[&dyn Shape]) -> f64 {
    items.iter().map(|item| item.area()).sum()
}

/// A unit circle and a 2 by 2.25 rectangle.
pub fn sample_area() -> f64 {
    let circle = Circle::new(1.0);
    let rect = Rect { width: 2.0, height: square(1.5) };
    total_area(&[&circle, &rect])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squares() {
        assert_eq!(square(3.0), 9.0);
    }
}
