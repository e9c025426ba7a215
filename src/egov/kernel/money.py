"""Money: VND as whole numbers (ARCHITECTURE.md), written the Vietnamese way."""


def group_thousands(amount: int) -> str:
    """200000 -> "200.000": Vietnamese groups thousands with dots (and writes no decimals for đồng)."""
    return f"{int(amount):,}".replace(",", ".")
