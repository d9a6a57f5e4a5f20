"""`base-image`, `assets`, `build`: the images. The only room that imports `docker` (engine.py)."""
