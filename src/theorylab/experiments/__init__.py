"""One module per claim family; each registers its experiments on import."""
