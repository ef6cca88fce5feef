"""Log file integrity: the digest format (``digest_format``) and ``trailpost validate-logs``.

``validate`` walks a trail's digest chain as ``aws cloudtrail validate-logs`` does (same checks,
messages and exit codes); ``sources`` reads digests and log files from S3 (boto3) or from a local
copy of the bucket; ``report`` prints AWS's lines and a progress bar; ``forensics`` says which
events a missing or altered log file held; ``command`` is the click command.
"""
