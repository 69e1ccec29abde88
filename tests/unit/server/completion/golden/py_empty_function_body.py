import math
from dataclasses import dataclass


@dataclass
class Circle:
    radius: float


def area(circle: Circle) -> float:
    """Area of a circle."""
    <|cursor|>


def main() -> None:
    print(area(Circle(2.0)))
