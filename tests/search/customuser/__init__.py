"""A project whose user model has no ``username``, for the query log admin."""
