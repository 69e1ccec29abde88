import sys

from pkg.models import User
from pkg.util import format_name


def greet(argv: list[str]) -> str:
    user = User(argv[1], argv[2])
    name = format_name(user.first, user.last)
    <|cursor|>


if __name__ == "__main__":
    print(greet(sys.argv))
