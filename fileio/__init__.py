"""File writing shared by storage, rendering and mail (below them in the layers)."""
