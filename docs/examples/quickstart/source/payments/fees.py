def fee(amount_cents: int) -> int:
    """A 1.5% fee, at least 30 cents, rounded half up."""
    if amount_cents <= 0:
        raise ValueError("an amount is positive")
    return max(30, (amount_cents * 15 + 500) // 1000)


def refund(amount_cents: int, fee_cents: int) -> int:
    """What a refund returns: the amount, not the fee."""
    return amount_cents - fee_cents
