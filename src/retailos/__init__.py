"""RetailOS: a retail operating system."""
