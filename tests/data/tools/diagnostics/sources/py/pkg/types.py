x: int = "ä"; y: int = "😀"; z: int = "w"
