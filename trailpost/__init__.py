"""trailpost: a self-hosted AWS Outposts control plane in which every API call is a CloudTrail event."""

__version__ = "0.1.0"
