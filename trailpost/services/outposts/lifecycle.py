"""Background lifecycle of orders, capacity tasks and decommissions, advanced by the worker (TICKERS)."""

from __future__ import annotations

from trailpost.services.base import Ticker

TICKERS: list[Ticker] = []
