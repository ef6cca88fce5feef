"""Trail delivery: log files of a trail's selected events, written to embedded or external S3 buckets."""
