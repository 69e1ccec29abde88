def format_name(first: str, last: str) -> str:
    """Join a first and a last name, title-cased."""
    return f"{first} {last}".title()


def unused_helper():
    pass
