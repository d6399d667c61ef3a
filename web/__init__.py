"""The review desk (`hoering web`): server-rendered pages over the review services."""
