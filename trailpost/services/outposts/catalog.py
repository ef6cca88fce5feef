"""The seeded catalog (data/catalog.json): GetCatalogItem, ListCatalogItems, ListOrderableInstanceTypes."""
