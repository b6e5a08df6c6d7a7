"""Catalogue: products, variants, categories and the import of real grocery data."""
