import pytest

from payments.fees import fee, refund


def test_small_payments_pay_the_minimum():
    assert fee(1000) == 30


def test_large_payments_pay_one_and_a_half_percent():
    assert fee(100_000) == 1500


def test_a_refund_returns_the_amount():
    assert refund(10_000, fee(10_000)) == 10_000
