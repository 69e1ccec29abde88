def mean(values: list[float]) -> float:
    if not values:
        raise ValueError("mean of an empty list")
    total = sum(values)
    return total / <|cursor|>
