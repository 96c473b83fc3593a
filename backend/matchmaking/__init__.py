"""The one seam between the platform and the matcher (matching/)."""
