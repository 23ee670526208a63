"""The adoption metric: pure figures, their formats, and where usage comes from."""
