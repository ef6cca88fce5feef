"""Audit: every API call becomes a CloudTrail record (``record``), stored durably before the response."""
