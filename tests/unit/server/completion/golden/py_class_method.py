import json
from pathlib import Path


class Settings:
    """Settings read from a JSON file, with defaults."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, object] = {}

    def load(self) -> None:
        """Read the file; a missing file keeps the defaults."""
        if not self.path.exists():
            return
        with self.path.open() as handle:
            self.values = json.load(handle)

    def get(self, key: str, default: object = None) -> object:
        """The value for key, or default."""
        if key not in self.values:
            return default
        value = self.values[key]
        if isinstance(value, str):
            value = value.strip()
        <|cursor|>
