"""The dashboard's pages, one module per page: thin views over selectors and services."""
