"""Shared test fixtures. Component fixtures live in tests/<component>/conftest.py."""
