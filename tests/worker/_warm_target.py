"""A module that a helper test asks the helper loop to import."""
