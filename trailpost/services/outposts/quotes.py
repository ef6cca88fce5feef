"""Quotes: CreateQuote, GetQuote, ListQuotes, UpdateQuote, DeleteQuote."""
