def fibonacci(n: int) -> int:
    """The n-th Fibonacci number."""
    if n < 2:
        return n
    return <|cursor|>


print(fibonacci(10))
