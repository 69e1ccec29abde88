from dataclasses import dataclass


@dataclass
class User:
    """A person who can log in."""

    first: str
    last: str

    def greeting(self, formal: bool = False) -> str:
        """How to greet this user."""
        return f"Dear {self.first}" if formal else f"Hi {self.first}"
