"""Simulated EC2 instances on an outpost's assets (the `trailpost sim` commands)."""
