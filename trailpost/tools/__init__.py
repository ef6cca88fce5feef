"""Developer tools run as ``python -m trailpost.tools.<name>`` (documentation generators and the like)."""
